//! ISO 3166-1 country codes: alpha-2 (how alerts and FollowTheMoney write nationalities) and
//! alpha-3 (how ICAO Doc 9303 writes most issuing states and nationalities in passports).

use crate::{CountryCode, DomainError, IcaoState};

/// Each entry is five letters: alpha-2 then alpha-3, sorted by alpha-2. Kosovo, which ISO has
/// not assigned, is written XK / RKS as the European Union and its passports do.
const TABLE: &str = concat!(
    "ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA ",
    "AZAZE BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES ",
    "BRBRA BSBHS BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK ",
    "CLCHL CMCMR CNCHN COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA ",
    "DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA ",
    "GAGAB GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS ",
    "GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD ",
    "IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA ",
    "KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA ",
    "LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ ",
    "MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC ",
    "NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG PHPHL PKPAK PLPOL PMSPM ",
    "PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA SASAU SBSLB SCSYC ",
    "SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD STSTP SVSLV ",
    "SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON TRTUR ",
    "TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR ",
    "VNVNM VUVUT WFWLF WSWSM XKRKS YEYEM YTMYT ZAZAF ZMZMB ZWZWE "
);

/// The width of an entry of [`TABLE`] with the space after it.
const ENTRY: usize = 6;

fn entries() -> impl Iterator<Item = (&'static str, &'static str)> {
    // Cut at fixed places rather than split at spaces: a manifest looks up every traveller's
    // nationality, and splitting the table was most of the cost.
    (0..TABLE.len() / ENTRY).map(|i| (&TABLE[i * ENTRY..i * ENTRY + 2], &TABLE[i * ENTRY + 2..i * ENTRY + 5]))
}

impl CountryCode {
    /// The ISO alpha-3 code of this country, if ISO assigns one.
    pub fn alpha3(&self) -> Option<IcaoState> {
        entries().find(|(alpha2, _)| *alpha2 == self.as_str()).and_then(|(_, alpha3)| IcaoState::new(alpha3).ok())
    }

    /// The country of an ISO alpha-3 code, and of the ICAO code `D` (Germany).
    pub fn from_alpha3(code: &str) -> Option<CountryCode> {
        let code = code.trim().to_ascii_uppercase();
        let code = if code == "D" { "DEU" } else { code.as_str() };
        entries().find(|(_, alpha3)| *alpha3 == code).and_then(|(alpha2, _)| CountryCode::new(alpha2).ok())
    }

    /// A country written either way: ISO alpha-2 (`IQ`) or alpha-3 (`IRQ`, and ICAO's `D`).
    pub fn from_alpha2_or_3(text: &str) -> Result<CountryCode, DomainError> {
        let text = text.trim();
        if text.len() == 3 {
            return CountryCode::from_alpha3(text)
                .ok_or_else(|| DomainError::new(format!("`{text}` is not an ISO 3166-1 alpha-3 country code")));
        }
        CountryCode::new(text)
    }

    /// Whether ISO 3166-1 (or common usage, for XK) assigns this code.
    pub fn is_assigned(&self) -> bool {
        entries().any(|(alpha2, _)| alpha2 == self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        let iq = CountryCode::new("iq").unwrap();
        assert_eq!(iq.alpha3().unwrap().as_str(), "IRQ");
        assert_eq!(CountryCode::from_alpha3("irq"), Some(iq));
        assert_eq!(CountryCode::from_alpha3("D").unwrap().as_str(), "DE");
        assert_eq!(CountryCode::from_alpha2_or_3(" irq ").unwrap(), iq);
        assert_eq!(CountryCode::from_alpha2_or_3("iq").unwrap(), iq);
        assert!(CountryCode::from_alpha2_or_3("XYZ").unwrap_err().to_string().contains("alpha-3"));
        assert_eq!(CountryCode::from_alpha3("CZE").unwrap().as_str(), "CZ");
        assert_eq!(CountryCode::from_alpha3("XXA"), None);
        assert!(!CountryCode::new("ZZ").unwrap().is_assigned());
        assert_eq!(entries().count(), 250);
        // Five capitals and a space each, nothing else: the entries are cut at fixed places.
        assert_eq!(TABLE.len(), 250 * ENTRY);
        assert!(TABLE.as_bytes().chunks(ENTRY).all(|e| e[..5].iter().all(u8::is_ascii_uppercase) && e[5] == b' '));
        let mut previous = "";
        for (alpha2, alpha3) in entries() {
            assert!(alpha2 > previous && alpha3.len() == 3, "{alpha2}{alpha3}");
            previous = alpha2;
        }
    }
}

//! A curated table of frequent names of Arabic (and Persian, Turkish, West African) usage and
//! their spellings, written by the tabadul team. Two spellings of one entry are the same name
//! ("known variant"); two different entries are different names, however alike they look
//! (حسن Hassan is not حسين Hussein). Frequent names weigh less as evidence than rare ones.
//!
//! Each line: `weight|spellings...` with spellings separated by `,`. Arabic spellings are
//! written as usual; compounds may be written apart or joined. The weight is how much a match
//! on this name counts, relative to 1.0 for a name not in the table.

pub(crate) const TABLE: &str = "\
0.3|محمد,mohammed,muhammad,mohamed,mohammad,mohamad,muhammed,mohamud,muhamad,muhamed,mohammod,mehmet,mohamet,mouhamed,mouhammad,mukhammad,muhammet,mamadou,mhd,mhmd,muhd,mohd
0.3|أحمد,ahmed,ahmad,ahmet,achmed,ahmadou,amadou,akhmed
0.4|محمود,mahmoud,mahmud,mahmood,mehmood,mahmut
0.3|علي,ali,aly,alee
0.35|حسن,hassan,hasan,hassen,hasen,hasson
0.35|حسين,hussein,husein,hussain,husain,husayn,hussien,hossein,hosein,huseyin,houssein,hussen,husseyn
0.4|عمر,omar,umar,omer,umer,oumar
0.5|عثمان,othman,osman,uthman,usman,osmane,ousmane,othmane
0.4|خالد,khalid,khaled,khalied,khalod
0.4|إبراهيم,ibrahim,ibraheem,ebrahim,brahim,ibrahima,ibragim
0.4|يوسف,youssef,yusuf,yousef,yousuf,yusef,youssouf,yousif,yosef,joseph,josef,yussuf,yusif
0.3|عبد الله,abdullah,abdallah,abdulla,abdalla,abd allah,abdellah,abdoullah,abdulah,abdollah
0.35|عبد الرحمن,abdulrahman,abdelrahman,abdurrahman,abdul rahman,abd al rahman,abderrahmane,abdourahmane,abdurahman,abdelrahmane,abdul rehman,abdurrehman
0.45|مصطفى,mustafa,mostafa,moustafa,mustapha,mostapha,mustafah
0.45|سعيد,said,saeed,saied,saeid,saiid,saiyd
0.5|سعد,saad,saed
0.45|صالح,saleh,salih,saalih
0.5|صلاح,salah,salaah
0.5|سالم,salem,saalem
0.5|سليمان,sulaiman,suleiman,sulayman,soleiman,slimane,souleymane,suleyman,soliman,sulejman
0.5|ياسين,yassin,yasin,yaseen,yacine,yassine
0.5|عيسى,isa,issa,eissa,aissa,eesa
0.5|موسى,musa,moussa,mousa,mussa,moosa
0.5|جمال,jamal,gamal,djamel,jamel,djamal
0.5|كمال,kamal,kamel
0.5|جاسم,jassim,jasim,jassem,jasem
0.5|حامد,hamid,haamid,hamed
0.5|حمد,hamad
0.45|عبد العزيز,abdulaziz,abdelaziz,abd al aziz,abdul aziz,abdelaaziz
0.45|عبد الكريم,abdulkarim,abdelkarim,abdel karim,abdul karim,abdulkareem
0.45|عبد القادر,abdulkadir,abdelkader,abdulqadir,abdul qadir,abdelkadir,abdulkader,abdel kader
0.5|فيصل,faisal,faysal,feisal,faycal
0.5|فهد,fahd,fahad
0.45|ناصر,nasser,nasir,naser,nassir,nacer
0.5|منصور,mansour,mansur,mansoor
0.5|جعفر,jafar,jaafar,jaffar,djafar
0.5|زكريا,zakaria,zakariya,zakariah,zakariyya,zakarya
0.5|يحيى,yahya,yahia,yehia,yahiya,yehya
0.5|إسماعيل,ismail,ismael,ismaeel,esmail,ismaiel
0.5|إسحاق,ishaq,ishak,isaac,ishaaq,issac
0.5|طارق,tariq,tarek,tareq,tarik
0.5|عادل,adel,adil
0.45|أسامة,osama,usama,usamah,oussama,ousama
0.5|حمزة,hamza,hamzah
0.5|عباس,abbas,abas
0.5|عمار,ammar,amar
0.5|ماجد,majid,majed,maged
0.5|وليد,walid,waleed,oualid
0.5|رشيد,rashid,rachid,rasheed
0.5|نور,nour,nur,noor
0.45|فاطمة,fatima,fatimah,fatma,fadma,fatouma
0.5|عائشة,aisha,aicha,aysha,ayesha,aishah,aichatou
0.5|مريم,maryam,mariam,meryem,maryem
0.5|زينب,zainab,zaynab,zeinab
0.5|خديجة,khadija,khadijah,khadidja
0.5|أمينة,amina,aminah
0.5|حبيب,habib
0.5|كريم,karim,kareem
0.5|رحمن,rahman,rehman,rahmane
0.5|سيد,sayed,sayyid,syed,sayyed,sayid,seyed,seyyed
0.5|شريف,sharif,cherif,sherif
0.5|بكر,bakr,bakar,baker
0.5|جبريل,jibril,jibreel,jebril,jibriel,djibril
0.5|يونس,yunus,younes,younis,yunis,younous
0.5|إلياس,ilyas,elias,ilias,elyas
0.5|داود,dawud,daud,dawood,daoud
0.5|نبيل,nabil,nabeel
0.5|هشام,hisham,hicham,hesham
0.5|قاسم,qasim,kasim,qassem,kassem,qassim
0.5|هاشم,hashim,hashem
0.5|عبد الحميد,abdulhamid,abdelhamid,abdul hamid,abdel hamid
0.5|عبد الرحيم,abdulrahim,abdelrahim,abdul rahim,abdurrahim,abdurahim,abdul rehim
0.5|عبد السلام,abdulsalam,abdelsalam,abdessalam,abdussalam,abdul salam,abdesselam
0.5|عبد الملك,abdulmalik,abdelmalek,abdul malik
0.5|عبد الأمير,abdulamir,abdulameer,abdul amir,abd al amir
0.5|عبد الباقي,abdulbaqi,abdul baqi,abdel baki,abdul baki
0.5|عبد الحكيم,abdulhakim,abdelhakim,abdul hakim
0.5|عبد الناصر,abdulnasser,abdelnasser,abdul nasser
";

//! Canonical JSON: object keys sorted (by their UTF-8 bytes), no spaces, numbers and strings
//! as serde_json writes them. The same value always gives the same text, whichever program
//! wrote it, so that a receipt's hashes can be recomputed from what was stored.
//!
//! Written straight from the value's `Serialize`, without building a `serde_json::Value` tree
//! first: a manifest hashes hundreds of check results, each with its hits and their reasons,
//! and the tree (a string and a map node per field) cost as much as the writing. The text is
//! the one the tree gives, to the byte (a test compares the two).

use std::borrow::Cow;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// `value` as canonical JSON ("" when it cannot be written as JSON: a map with keys that are
/// not strings or numbers).
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Only JSON text is written: strings whole, escaped as serde_json escapes them.
    String::from_utf8(canonical_bytes(value)).unwrap_or_default()
}

/// The SHA-256 of [`canonical_json`]`(value)`, in hex: what a receipt holds of a query and a
/// result. Hashed from the bytes as written (a check's result runs to kilobytes of Arabic
/// and Latin text; reading it again only to call it UTF-8 cost a tenth of the writing).
pub fn canonical_sha256<T: Serialize + ?Sized>(value: &T) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(canonical_bytes(value)))
}

/// `value` as canonical JSON, its bytes (none when it cannot be written as JSON).
fn canonical_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // About what a check's result takes, so that it is not grown from nothing.
    let mut out = Vec::with_capacity(4096);
    match value.serialize(Canonical { out: &mut out }) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

type Error = serde_json::Error;

/// Writes a value as canonical JSON to `out`.
struct Canonical<'a> {
    out: &'a mut Vec<u8>,
}

impl Canonical<'_> {
    /// A scalar or a string, as serde_json writes it.
    fn plain<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.out, value)
    }

    /// `{"variant":` before the value of an enum variant that carries data.
    fn open_variant(&mut self, variant: &str) -> Result<(), Error> {
        self.out.push(b'{');
        serde_json::to_writer(&mut *self.out, variant)?;
        self.out.push(b':');
        Ok(())
    }
}

/// Scalars written as serde_json writes them.
macro_rules! plain {
    ($($method:ident: $type:ty),*) => {$(
        fn $method(self, v: $type) -> Result<(), Error> {
            self.plain(&v)
        }
    )*};
}

/// Map keys that are their text.
macro_rules! as_text {
    ($($method:ident: $type:ty),*) => {$(
        fn $method(self, v: $type) -> Result<String, Error> {
            Ok(v.to_string())
        }
    )*};
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    plain!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_f64: f64,
        serialize_char: char);

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        // As `Value` holds numbers: in 64 bits or not at all.
        match (u64::try_from(v), i64::try_from(v)) {
            (Ok(v), _) => self.plain(&v),
            (_, Ok(v)) => self.plain(&v),
            _ => Err(ser::Error::custom("number out of range")),
        }
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        match u64::try_from(v) {
            Ok(v) => self.plain(&v),
            Err(_) => Err(ser::Error::custom("number out of range")),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // A JSON number is a double: as `Value` holds it.
        self.plain(&f64::from(v))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.plain(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // An array of numbers.
        self.plain(v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.plain(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.open_variant(variant)?;
        value.serialize(Canonical { out: &mut *self.out })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, Error> {
        self.out.push(b'[');
        Ok(Seq { out: self.out, first: true, variant: false })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>, Error> {
        self.open_variant(variant)?;
        self.out.push(b'[');
        Ok(Seq { out: self.out, first: true, variant: true })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, false))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'a>, Error> {
        self.open_variant(variant)?;
        Ok(Object::new(self.out, true))
    }
}

/// An array being written; `variant`: closed with `]}` (the value of an enum variant).
struct Seq<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    variant: bool,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canonical { out: &mut *self.out })
    }

    fn close(self) -> Result<(), Error> {
        self.out.extend_from_slice(if self.variant { b"]}" } else { b"]" });
        Ok(())
    }
}

/// The four kinds of arrays serde asks for, each written by [`Seq`] alike.
macro_rules! seq_kind {
    ($($kind:ident: $method:ident),*) => {$(
        impl ser::$kind for Seq<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

seq_kind!(SerializeSeq: serialize_element, SerializeTuple: serialize_element, SerializeTupleStruct: serialize_field,
    SerializeTupleVariant: serialize_field);

/// An object being written: each entry (`"key":value`) is written where it comes, and at the
/// object's end the entries are put in their keys' order if they did not come in it (an
/// object whose fields come in that order is not copied at all); `variant`: closed with `}}`
/// (the value of an enum variant).
struct Object<'a> {
    out: &'a mut Vec<u8>,
    /// Each entry's key and where its text lies in `out` (inline: a check writes thousands of
    /// objects, nearly all of fewer fields).
    entries: smallvec::SmallVec<[(Cow<'static, str>, std::ops::Range<usize>); 16]>,
    /// A map's key, waiting for its value.
    key: Option<String>,
    variant: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, variant: bool) -> Object<'a> {
        out.push(b'{');
        Object { out, entries: smallvec::SmallVec::new(), key: None, variant }
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: Cow<'static, str>, value: &T) -> Result<(), Error> {
        if !self.entries.is_empty() {
            self.out.push(b',');
        }
        let from = self.out.len();
        serde_json::to_writer(&mut *self.out, key.as_ref())?;
        self.out.push(b':');
        value.serialize(Canonical { out: &mut *self.out })?;
        self.entries.push((key, from..self.out.len()));
        Ok(())
    }

    fn close(mut self) -> Result<(), Error> {
        let in_order = self.entries.windows(2).all(|pair| pair[0].0 < pair[1].0);
        if let (false, Some((_, first))) = (in_order, self.entries.first()) {
            let start = first.start;
            let written = self.out.split_off(start);
            // Stable: of two entries with one key, the last written is kept (as a map keeps it).
            self.entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut any = false;
            for (i, (key, range)) in self.entries.iter().enumerate() {
                if self.entries.get(i + 1).is_some_and(|next| next.0 == *key) {
                    continue;
                }
                if any {
                    self.out.push(b',');
                }
                any = true;
                self.out.extend_from_slice(&written[range.start - start..range.end - start]);
            }
        }
        self.out.extend_from_slice(if self.variant { b"}}" } else { b"}" });
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeyText)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| ser::Error::custom("a map value without its key"))?;
        self.entry(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// A struct and a struct variant, each written by [`Object`] alike.
macro_rules! struct_kind {
    ($($kind:ident),*) => {$(
        impl ser::$kind for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.entry(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

struct_kind!(SerializeStruct, SerializeStructVariant);

/// A map key as the text of a JSON object's key: a string as it is, a number, a boolean or a
/// character as its text; anything else is not a key JSON can hold.
struct KeyText;

fn not_a_key() -> Error {
    ser::Error::custom("a map key must be a string or a number")
}

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    as_text!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_u128: u128, serialize_char: char);

    fn serialize_f32(self, v: f32) -> Result<String, Error> {
        if v.is_finite() { serde_json::to_string(&v) } else { Err(not_a_key()) }
    }
    fn serialize_f64(self, v: f64) -> Result<String, Error> {
        if v.is_finite() { serde_json::to_string(&v) } else { Err(not_a_key()) }
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Error> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_key())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_key())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    /// What canonical JSON was first defined as: serde_json's `Value` (whose maps are ordered
    /// by key), written compactly.
    fn through_value<T: Serialize>(value: &T) -> String {
        serde_json::to_value(value).map(|v| v.to_string()).unwrap_or_default()
    }

    #[derive(Serialize)]
    enum Shape {
        Point,
        Circle(f64),
        Pair(i32, String),
        Box { zeta: u8, alpha: Option<char> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Wrapper(Vec<Shape>);

    #[derive(Serialize)]
    struct Record {
        zulu: String,
        alpha: f32,
        mike: Option<Vec<u64>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        nested: BTreeMap<String, Shape>,
        numbers: HashMap<u32, bool>,
        tuple: (i8, Unit, (), Wrapper),
        #[serde(with = "serde_bytes_like")]
        bytes: Vec<u8>,
        #[serde(flatten)]
        flat: BTreeMap<String, serde_json::Value>,
        big: i128,
        huge: u128,
        float_keys: BTreeMap<String, HashMap<i64, f32>>,
        not_finite: f64,
    }

    /// Bytes written as bytes (what `serialize_bytes` is asked).
    mod serde_bytes_like {
        pub fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(bytes)
        }
    }

    fn record(text: &str, number: f32) -> Record {
        let mut nested = BTreeMap::new();
        nested.insert("b".into(), Shape::Box { zeta: 9, alpha: Some('ع') });
        nested.insert("a".into(), Shape::Pair(-3, text.into()));
        nested.insert("Z".into(), Shape::Circle(f64::from(number) / 3.0));
        nested.insert("é".into(), Shape::Point);
        let numbers = (0..12).map(|i| (i * 7919 % 1000, i % 3 == 0)).collect();
        let mut flat = BTreeMap::new();
        flat.insert("aa".into(), serde_json::json!({"y": [1, {"c": null, "b": 2.5}], "x": "\u{1}\"\\"}));
        flat.insert("zz".into(), serde_json::json!([]));
        Record {
            zulu: text.into(),
            alpha: number,
            mike: Some(vec![0, u64::MAX]),
            skipped: None,
            nested,
            numbers,
            tuple: (-128, Unit, (), Wrapper(vec![Shape::Point, Shape::Circle(1e300)])),
            bytes: vec![0, 255, 10],
            flat,
            big: i128::from(i64::MIN),
            huge: u128::from(u64::MAX),
            float_keys: [("k".to_string(), [(-5, number), (7, 2.5)].into_iter().collect())].into_iter().collect(),
            not_finite: f64::NAN,
        }
    }

    #[test]
    fn the_same_text_as_through_a_value() {
        for (text, number) in [
            ("", 0.0),
            ("عبد الأمير الشمري", 0.1),
            ("line\nbreak \"quoted\" \\ tab\t \u{7f} \u{2028}", -1.5e-7),
            ("ABDULAMEER<<ALSHAMMARI", f32::MAX),
            ("x", f32::INFINITY),
        ] {
            let value = record(text, number);
            assert!(canonical_json(&value).len() > 200);
            assert_eq!(canonical_json(&value), through_value(&value), "{text:?} {number}");
        }
    }

    /// A map that writes the keys it is given, repeated ones too.
    struct Entries(&'static [(&'static str, u8)]);

    impl Serialize for Entries {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (key, value) in self.0 {
                map.serialize_entry(key, value)?;
            }
            map.end()
        }
    }

    #[test]
    fn keys_in_order_or_not_and_repeated_keys_as_a_value_holds_them() {
        for entries in [
            &[][..],
            &[("a", 1)],
            &[("a", 1), ("b", 2), ("c", 3)],
            &[("c", 3), ("a", 1), ("b", 2)],
            &[("a", 1), ("b", 2), ("b", 3)],
            &[("b", 2), ("a", 1), ("b", 3), ("a", 4)],
        ] {
            let nested = serde_json::json!({"z": [1], "inner": serde_json::to_value(Entries(entries)).unwrap()});
            assert_eq!(canonical_json(&Entries(entries)), through_value(&Entries(entries)), "{entries:?}");
            assert_eq!(canonical_json(&nested), through_value(&nested), "{entries:?}");
        }
    }

    #[test]
    fn the_hash_is_that_of_the_text() {
        let value = record("عبد الأمير الشمري", 0.1);
        assert_eq!(canonical_sha256(&value), crate::receipt::sha256_hex(&canonical_json(&value)));
        assert_eq!(canonical_sha256(&i128::MIN), crate::receipt::sha256_hex(""));
    }

    #[test]
    fn keys_sorted_at_every_level_and_no_spaces() {
        let value = serde_json::json!({"b": 1, "a": {"d": [1, 2], "c": "x"}});
        assert_eq!(canonical_json(&value), r#"{"a":{"c":"x","d":[1,2]},"b":1}"#);
        // The keys of a map are sorted too, numbers as their text.
        let map: HashMap<u16, &str> = [(10, "ten"), (9, "nine"), (100, "hundred")].into_iter().collect();
        assert_eq!(canonical_json(&map), r#"{"10":"ten","100":"hundred","9":"nine"}"#);
    }

    #[test]
    fn what_json_cannot_hold_gives_nothing() {
        assert_eq!(canonical_json(&i128::MIN), "");
        assert_eq!(through_value(&i128::MIN), "");
        assert_eq!(canonical_json(&u128::MAX), "");
        let floats: HashMap<String, f32> = [("a".into(), f32::NAN)].into_iter().collect();
        assert_eq!(canonical_json(&floats), through_value(&floats));
        let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        assert_eq!(canonical_json(&map), "");
        assert_eq!(through_value(&map), "");
    }
}

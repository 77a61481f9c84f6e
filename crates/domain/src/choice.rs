/// Declares a closed set of named choices with one spelling used everywhere:
/// API, database, CLI and templates. Generates `ALL`, `as_str`, `FromStr`
/// (with an error that lists the valid spellings), `Display` and serde.
macro_rules! choice_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];
            const EXPECTED: &'static str = concat!($( $text, " " ),+);

            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $( if t.eq_ignore_ascii_case($text) { return Ok($name::$variant); } )+
                Err($crate::DomainError::InvalidChoice {
                    what: $what,
                    value: s.to_owned(),
                    expected: Self::EXPECTED,
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Declares a validated text newtype: construction goes through `new`, which
/// applies the given check; serde and `FromStr` go through `new` too.
macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: &str) -> Result<Self, $crate::DomainError> {
                $check(text).map($name)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::new(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Declares an integer id newtype (database row id) with serde as a number.
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

/// Whether `c` reorders or hides text where it is shown: the Unicode
/// bidirectional embeddings, overrides, isolates and marks (the
/// "Trojan Source" characters) and the line and paragraph separators.
pub fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}'
    )
}

/// Why a one-line label (a name, a title) cannot be shown as written:
/// control characters (NUL included) or [`is_deceptive`] ones.
pub fn label_problem(text: &str) -> Option<&'static str> {
    if text.chars().any(char::is_control) {
        return Some("must not contain control characters");
    }
    if text.chars().any(is_deceptive) {
        return Some("must not contain bidirectional-override or line-separator characters");
    }
    None
}

/// Checks a human-facing name: 1 to 200 printable characters, no control
/// or bidirectional-override characters, no leading or trailing blanks.
pub fn check_display_name(what: &'static str, text: &str) -> Result<String, crate::DomainError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(crate::DomainError::InvalidText {
            what,
            reason: "must not be empty".into(),
        });
    }
    if t.chars().count() > 200 {
        return Err(crate::DomainError::InvalidText {
            what,
            reason: "must be at most 200 characters".into(),
        });
    }
    if let Some(reason) = label_problem(t) {
        return Err(crate::DomainError::InvalidText {
            what,
            reason: reason.into(),
        });
    }
    Ok(t.to_owned())
}

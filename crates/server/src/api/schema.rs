//! Schemas written by hand where a derive cannot say exactly what the
//! server accepts: query parameters it checks (`#[param(schema_with =
//! …)]`; an empty value is no filter, as the web forms send it) and
//! schema-only values of request bodies.

use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

fn string(format: Option<KnownFormat>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(format.map(SchemaFormat::KnownFormat))
}

fn or_empty(items: impl IntoIterator<Item = ObjectBuilder>) -> RefOr<Schema> {
    let mut any = AnyOfBuilder::new();
    for item in items {
        any = any.item(item);
    }
    RefOr::T(Schema::AnyOf(
        any.item(string(None).max_length(Some(0))).build(),
    ))
}

/// An IPv4 or IPv6 address, or nothing.
pub(crate) fn ip_filter() -> RefOr<Schema> {
    or_empty([
        string(Some(KnownFormat::Ipv4)),
        string(Some(KnownFormat::Ipv6)),
    ])
}

/// An RFC 3339 instant, or nothing.
pub(crate) fn instant_filter() -> RefOr<Schema> {
    or_empty([string(Some(KnownFormat::DateTime))])
}

/// A schema-only type: its schema, under its own name.
macro_rules! schema_only {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub(crate) struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

schema_only!(
    /// A DNS name: letters, digits, `-` and `_` in labels of 1 to 63
    /// characters, at most 253 in all, a trailing dot allowed.
    DomainNameText => string(None).max_length(Some(253)).pattern(Some(
        r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$",
    ))
);

schema_only!(
    /// An AS number: 0 and 4294967295 are reserved.
    AsnNumber => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(4_294_967_294_u32))
);

schema_only!(
    /// Hashes one per line: at least one.
    HashLines => string(None).pattern(Some(r"\S"))
);

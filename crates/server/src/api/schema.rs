//! Schemas of the query parameters whose values the server checks
//! (`#[param(schema_with = …)]`), saying exactly what each accepts. An
//! empty value is no filter, as the web forms send it.

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

//! The TAXII collections as a caller sees them, and their read path.
//!
//! Product collections (advisories, malicious URLs, clean files) are views
//! of the products' own tables, paged by the instant each record entered or
//! last changed in the collection (distinct microseconds, assigned by the
//! store under the product's write lock). Trust-group collections hold the
//! STIX objects members post (`exchange_objects`). Every object served is
//! judged by `isx_policy::decide` through [`records`]; a collection the
//! caller may not read is not listed and answers 404, like a missing one.

use isx_domain::{GroupRole, TrustGroup};
use isx_exchange::page::{partial_page, select, select_window, Entry, Filter, Page};
use isx_formats::stix;
use isx_policy::decided_since;
use serde_json::Value;

use crate::identity::Caller;
use crate::AppError;
use crate::{advisories, records, App};

/// Where a collection's objects come from.
#[derive(Debug, Clone)]
pub enum Source {
    Advisories,
    Urls,
    CleanFiles,
    Botnet,
    Group(TrustGroup),
}

/// A collection as the caller sees it.
#[derive(Debug, Clone)]
pub struct CollectionInfo {
    pub id: String,
    pub alias: String,
    pub title: String,
    pub description: String,
    pub source: Source,
    pub can_read: bool,
    pub can_write: bool,
    /// The caller's role in a trust group's collection.
    pub role: Option<GroupRole>,
}

/// A collection's id: a UUID derived from its alias, stable across nodes
/// and restarts.
fn collection_id(alias: &str) -> String {
    let id = stix::object_id("x", &format!("taxii-collection:{alias}"));
    id.trim_start_matches("x--").to_owned()
}

/// The `id` of a STIX object.
fn id_of(object: &serde_json::Value) -> Option<&str> {
    object.get("id").and_then(serde_json::Value::as_str)
}

/// The alias of a trust group's collection.
pub fn group_alias(g: &TrustGroup) -> String {
    format!("group-{}", g.id.0)
}

/// The product collections (every member may read them; what each one
/// holds for a caller is decided per object).
fn products() -> [CollectionInfo; 4] {
    let product = |alias: &str, title: &str, description: &str, source: Source| CollectionInfo {
        id: collection_id(alias),
        alias: alias.to_owned(),
        title: title.to_owned(),
        description: description.to_owned(),
        source,
        can_read: true,
        can_write: false,
        role: None,
    };
    [
        product(
            "advisories",
            "Advance vulnerability notices",
            "STIX vulnerability objects of the advisories in release packages: each member \
             sees them from its advance window on (without the exploitability index until \
             24 hours before release unless its tier allows), everyone at release.",
            Source::Advisories,
        ),
        product(
            "urls",
            "Malicious URLs",
            "STIX indicators with URL patterns, one per URL record, re-added when the record changes.",
            Source::Urls,
        ),
        product(
            "cleanfiles",
            "Clean file metadata",
            "Known-good files as STIX file objects (MD5, SHA-1, SHA-256, size, name) with isx's \
             extension: known_good, product, version, vendor, source.",
            Source::CleanFiles,
        ),
        product(
            "botnet",
            "Botnet feeds",
            "Command-and-control servers and malicious domains as STIX indicators for every \
             member; infected machines and IoT devices in a member's constituency as an \
             indicator of the compromised address and a sighting of it, for the members it \
             concerns only. One event's objects per arrival, in order.",
            Source::Botnet,
        ),
    ]
}

/// The trust groups whose description the policy lets the caller see.
async fn visible_groups(app: &App, caller: &Caller) -> Result<Vec<TrustGroup>, AppError> {
    Ok(app
        .store
        .groups()
        .await?
        .into_iter()
        .filter(|g| records::may_see(app, caller, &records::group(g)))
        .collect())
}

/// A trust group's collection as the caller sees it: writable for its
/// owners and contributors (the operator's administrators count as
/// owners) until an ad hoc group's end date.
async fn group_collection(
    app: &App,
    caller: &Caller,
    g: TrustGroup,
    with_role: bool,
) -> Result<CollectionInfo, AppError> {
    let role = if with_role || caller.is_admin() {
        crate::partnership::role_in(app, caller, &g).await?
    } else {
        None
    };
    let now = app.clock.now();
    let open = !g.is_closed(now);
    let alias = group_alias(&g);
    Ok(CollectionInfo {
        id: collection_id(&alias),
        title: format!("Trust group: {}", g.name),
        description: if open {
            format!("What the members of {} share (STIX 2.1).", g.name)
        } else {
            format!("What the members of {} shared; closed, read only.", g.name)
        },
        alias,
        can_read: true,
        can_write: crate::partnership::may_write(&g, role, now),
        role,
        source: Source::Group(g),
    })
}

/// The collections the caller may read, products first.
pub async fn collections(app: &App, caller: &Caller) -> Result<Vec<CollectionInfo>, AppError> {
    let mut out = products().to_vec();
    for g in visible_groups(app, caller).await? {
        out.push(group_collection(app, caller, g, true).await?);
    }
    Ok(out)
}

/// One collection by id (or alias), or 404. Only the matching group's
/// roles are read (every TAXII request resolves its collection), and only
/// `with_role` (writes and the collection resource; reads are decided per
/// object by the policy function and need no role).
pub async fn collection(
    app: &App,
    caller: &Caller,
    id: &str,
    with_role: bool,
) -> Result<CollectionInfo, AppError> {
    let wanted = |alias: &str| alias == id || collection_id(alias) == id;
    if let Some(p) = products().into_iter().find(|p| wanted(&p.alias)) {
        return Ok(p);
    }
    let found = if caller.is_admin() {
        visible_groups(app, caller)
            .await?
            .into_iter()
            .find(|g| wanted(&group_alias(g)))
    } else {
        // Only groups the caller belongs to can be visible to it: look for
        // the id among those, then read that one group (still judged by
        // the policy function).
        match caller
            .principal
            .groups()
            .iter()
            .find(|g| wanted(&format!("group-{}", g.0)))
        {
            Some(gid) => app
                .store
                .group(*gid)
                .await?
                .filter(|g| records::may_see(app, caller, &records::group(g))),
            None => None,
        }
    };
    match found {
        Some(g) => group_collection(app, caller, g, with_role).await,
        None => Err(AppError::not_found(format!("collection {id}"))),
    }
}

/// One page of a collection: each entry with its object as JSON text (when
/// asked for). Stored objects pass through as they were stored.
pub struct ItemsPage {
    pub items: Vec<(Entry, Option<String>)>,
    pub more: bool,
    pub next: Option<String>,
    /// No later entry shares the last one's millisecond
    /// ([`isx_exchange::page::Page::sealed`]).
    pub sealed: bool,
}

impl ItemsPage {
    /// `X-TAXII-Date-Added-Last` (see [`isx_exchange::page::Page::date_added_last`]).
    pub fn date_added_last(&self) -> Option<isx_domain::Timestamp> {
        let last = self.items.last()?.0.date_added;
        Some(if self.sealed {
            isx_exchange::page::millisecond_end(last)
        } else {
            last
        })
    }
}

/// Reads the page `filter` selects from `c` (of one object when
/// `object_id` is given), as the caller may see it.
pub async fn read(
    app: &App,
    caller: &Caller,
    c: &CollectionInfo,
    filter: &Filter,
    object_id: Option<&str>,
    with_objects: bool,
) -> Result<ItemsPage, AppError> {
    let mut filter = filter.clone();
    if let Some(id) = object_id {
        filter.ids = vec![id.to_owned()];
    }
    match &c.source {
        Source::Group(g) => read_group(app, caller, g, &filter, with_objects).await,
        Source::Advisories => {
            let (entries, mut objects): (Vec<Entry>, Vec<String>) = advisory_items(app, caller)
                .await?
                .into_iter()
                .map(|(e, o)| (e, o.to_string()))
                .unzip();
            let page = select(&entries, &filter);
            let mut items = take_page(&entries, &mut objects, page);
            // Advisories enter the collection when a caller's view changes
            // (a window opening), not in imports of their own: the last
            // millisecond is complete only once it has passed.
            if !items.more {
                let now = app.clock.now();
                items.sealed &= items
                    .items
                    .last()
                    .is_none_or(|(e, _)| isx_exchange::page::millisecond_end(e.date_added) < now);
            }
            Ok(items)
        }
        Source::Urls | Source::CleanFiles | Source::Botnet => {
            read_product(app, caller, &c.source, &filter).await
        }
    }
}

/// The items of a page `select` chose from `entries`, whose objects are
/// `objects` (in the same order, ascending distinct `date_added`).
fn take_page(entries: &[Entry], objects: &mut [String], page: Page<'_>) -> ItemsPage {
    let items = page
        .entries
        .iter()
        .filter_map(|e| {
            let i = entries
                .binary_search_by_key(&e.date_added, |x| x.date_added)
                .ok()?;
            Some(((*e).clone(), objects.get_mut(i).map(std::mem::take)))
        })
        .collect();
    ItemsPage {
        items,
        more: page.more,
        next: page.next,
        sealed: page.sealed,
    }
}

fn entry_of(object: &Value, date_added: isx_domain::Timestamp) -> Entry {
    Entry {
        id: object["id"].as_str().unwrap_or_default().to_owned(),
        object_type: object["type"].as_str().unwrap_or_default().to_owned(),
        version: stix::version_of(object).unwrap_or(date_added),
        spec_version: object["spec_version"].as_str().unwrap_or("2.1").to_owned(),
        date_added,
    }
}

/// The advisories collection for this caller: one vulnerability object per
/// advisory the caller may see, masked as `decide` says, dated into the
/// collection when the caller's view of it last changed — the later of the
/// release's last revision and the instant `decide` last changed its answer
/// (a window opening, the release) — so a client polling with
/// `added_after` receives an advisory when it becomes visible to it, and
/// again when more of it does.
async fn advisory_items(app: &App, caller: &Caller) -> Result<Vec<(Entry, Value)>, AppError> {
    let now = app.clock.now();
    let identity_id = app.stix_identity_id();
    let mut rows = Vec::new();
    // The advisories the caller may see, masked (the notices read path).
    for (r, a) in advisories::search(
        app,
        &caller.principal,
        &advisories::AdvisoryFilter::default(),
    )
    .await?
    {
        // A draft or withdrawn release is not published, not even to the
        // operator's TAXII clients (a sync would re-publish it).
        if !r.is_published() {
            continue;
        }
        let at = view_changed_at(caller, &r, &a, now);
        let object = isx_formats::vulnerability::stix_vulnerability(&r, &a, &identity_id, at);
        rows.push((at, object));
    }
    // Distinct microseconds, ascending: ties (a release's advisories open
    // at one instant) are spread in id order.
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| id_of(&a.1).cmp(&id_of(&b.1))));
    let mut last = i64::MIN;
    Ok(rows
        .into_iter()
        .map(|(at, object)| {
            let added = at.as_micros().max(last + 1);
            last = added;
            (
                entry_of(&object, isx_domain::Timestamp::from_micros(added)),
                object,
            )
        })
        .collect())
}

/// When the caller's view of an advisory last changed: the later of the
/// release's (and the advisory's) last revision and the instant `decide`
/// last changed its answer (a window opening, the release). TAXII dates
/// an advisory into its collection at it, and MISP feeds stamp it.
pub(crate) fn view_changed_at(
    caller: &Caller,
    r: &isx_advisories::Release,
    a: &isx_advisories::Advisory,
    now: isx_domain::Timestamp,
) -> isx_domain::Timestamp {
    let since = decided_since(&caller.principal, &records::release(r), now);
    let revised = r
        .revisions
        .iter()
        .map(|v| v.date)
        .chain(a.revisions.iter().map(|v| v.date))
        .chain(std::iter::once(r.created_at))
        .filter(|t| *t <= now)
        .max()
        .unwrap_or(r.created_at);
    since.map_or(revised, |s| s.max(revised))
}

/// Product collections with one version per object, read from their
/// tables in windows after the resume point until the page is full.
async fn read_product(
    app: &App,
    caller: &Caller,
    source: &Source,
    filter: &Filter,
) -> Result<ItemsPage, AppError> {
    let identity_id = app.stix_identity_id();
    let markings = records::url_markings(&caller.principal, app.clock.now());
    let clean_ok = records::may_see(app, caller, &records::clean_file());
    let mut cursor = match (filter.added_after, filter.after) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a
            .or(b)
            .unwrap_or(isx_domain::Timestamp::from_micros(i64::MIN)),
    };
    // Rows per read: the page and one more (to know whether there is
    // more), doubled while filters leave the page short.
    let mut window = u32::try_from(filter.limit.saturating_add(1).min(100_000)).unwrap_or(100_000);
    let mut entries: Vec<Entry> = Vec::new();
    let mut objects: Vec<String> = Vec::new();
    // Both product tables store one arrival instant per import; the
    // objects a caller may see are spread over the microseconds after it
    // (`Spread`), so a `date_added` counts nothing the caller cannot see.
    // Reading starts at the import the resume point falls in.
    // Botnet events are read by id from that import's first event
    // (arrival ascends with the id).
    let mut botnet_after = match source {
        Source::Botnet => app.store.botnet_import_start(cursor).await?,
        _ => 0,
    };
    // URL records by (instant, place in the import), from the first place
    // that can hold an object after the resume point: a record's index
    // among those the caller sees is at most its place.
    let mut url_after = match source {
        Source::Urls => match app.store.url_arrival_at_or_before(cursor).await? {
            Some(at) => {
                let into = cursor.as_micros().saturating_sub(at.as_micros());
                let first = into.saturating_sub(URL_OBJECTS - 1) / URL_OBJECTS;
                (at, first - 1)
            }
            None => (isx_domain::Timestamp::from_micros(i64::MIN), i64::MIN),
        },
        _ => (cursor, 0),
    };
    let mut spread = Spread::default();
    let mut scanned = 0usize;
    // Botnet objects' ids derive from the opaque event id.
    let wire = app.wire_ids().await?;
    let start = cursor;
    loop {
        let mut got = 0usize;
        match source {
            Source::Botnet => {
                let query = isx_store::BotnetQuery {
                    // A pre-selection for speed; `decide` judges each event.
                    member: (!caller.is_admin()).then_some(caller.member.id),
                    after_id: Some(botnet_after),
                    limit: window,
                    ..Default::default()
                };
                let rows = app.store.botnet_events(&query).await?;
                got = rows.len();
                let now = app.clock.now();
                for e in rows {
                    botnet_after = e.id;
                    if !isx_policy::decide(&caller.principal, &records::botnet_event(&e), now)
                        .is_allowed()
                    {
                        continue;
                    }
                    let first = spread.first_of_next(e.received_at, BOTNET_OBJECTS);
                    // Object ids derive from the event's opaque id: the
                    // stored one would count the events others received.
                    let shown = wire.encode(crate::wire_ids::IdKind::BotnetEvent, e.id);
                    for (offset, object) in isx_formats::botnet::out::stix_event(
                        &e.event,
                        &e.indicator,
                        shown,
                        &identity_id,
                    ) {
                        let added = isx_domain::Timestamp::from_micros(first + offset);
                        if added > start {
                            entries.push(entry_of(&object, added));
                            objects.push(object.to_string());
                        }
                    }
                }
            }
            Source::Urls => {
                let rows = app
                    .store
                    .urls_by_added(&markings, url_after, window)
                    .await?;
                got = rows.len();
                for (r, place) in rows {
                    url_after = (r.changed_at, place.pos);
                    // The store filtered by the markings `decide` allows;
                    // the record's index among them was counted at import,
                    // so it stays when records before it move on.
                    let first = r
                        .changed_at
                        .as_micros()
                        .saturating_add(URL_OBJECTS.saturating_mul(place.index_among(&markings)));
                    for (offset, object) in isx_formats::urls::stix_objects(&r, &identity_id) {
                        let added = isx_domain::Timestamp::from_micros(first + offset);
                        if added > start {
                            entries.push(entry_of(&object, added));
                            objects.push(object.to_string());
                        }
                    }
                }
            }
            Source::CleanFiles if clean_ok => {
                // The page as one JSON value from the store; each object
                // written straight as text (`write_stix_file`, the same
                // object `stix_file` builds, property-tested).
                let page = app.store.clean_page_json(cursor, window).await?;
                let rows: Vec<isx_formats::cleanfiles::CleanRow<'_>> = serde_json::from_str(&page)
                    .map_err(|e| AppError::Internal(format!("clean-file page: {e}")))?;
                got = rows.len();
                entries.reserve(rows.len());
                objects.reserve(rows.len());
                let mut scratch = String::with_capacity(512);
                for r in &rows {
                    let added = isx_domain::Timestamp::from_micros(r.added_at);
                    cursor = added;
                    let mut text = String::with_capacity(512);
                    let id = isx_formats::cleanfiles::write_stix_file(&mut text, &mut scratch, r);
                    entries.push(Entry {
                        id,
                        object_type: "file".to_owned(),
                        version: added,
                        spec_version: "2.1".to_owned(),
                        date_added: added,
                    });
                    objects.push(text);
                }
            }
            _ => {}
        }
        let exhausted = got < window as usize;
        scanned = scanned.saturating_add(got);
        let page = select(&entries, filter);
        if exhausted || page.more {
            return Ok(take_page(&entries, &mut objects, page));
        }
        // A filter that matches little: page on after what was read,
        // before the next window would read past the bound.
        if scanned.saturating_add(window as usize * 2) > SCAN_ROWS {
            if let Some(upto) = entries.last().map(|e| e.date_added) {
                let page = partial_page(&entries, filter, upto);
                return Ok(take_page(&entries, &mut objects, page));
            }
        }
        window = window.saturating_mul(2).min(100_000);
    }
}

/// The page a window of a group's collection decides, or — once the
/// window is as large as a request reads (`at_cap`) — what it holds, with
/// a `next` after it.
fn window_page<'a>(
    versions: &'a [Entry],
    filter: &Filter,
    end: Option<isx_domain::Timestamp>,
    at_cap: bool,
) -> Option<Page<'a>> {
    select_window(versions, filter, end).or_else(|| match (at_cap, end) {
        (true, Some(upto)) => Some(partial_page(versions, filter, upto)),
        _ => None,
    })
}

/// The most rows one request reads from a collection before it answers
/// with what it has and a `next` (see [`partial_page`]).
const SCAN_ROWS: usize = 100_000;

/// The microseconds after its import's arrival instant each TAXII object
/// of a botnet event (indicator, sighting) or URL record (indicator,
/// infrastructure, relationship) takes, from its offset in
/// `isx_formats::botnet::out::stix_event` and `isx_formats::urls::stix_objects`.
const BOTNET_OBJECTS: i64 = 2;
const URL_OBJECTS: i64 = isx_store::URL_OBJECTS_PER_RECORD;

/// Spreads the rows a caller may see over the microseconds after their
/// import's arrival instant, in the order read: the caller's k-th row of
/// an import starts at `instant + k × width`. Rows it may not see take no
/// place. The store leaves room for every row of an import
/// (`isx_store::ARRIVAL_ROOM` and up), so the spread never reaches the
/// next import's instant.
#[derive(Default)]
struct Spread {
    import: Option<isx_domain::Timestamp>,
    seen: i64,
}

impl Spread {
    /// The first microsecond of the next visible row of the import at `at`.
    fn first_of_next(&mut self, at: isx_domain::Timestamp, width: i64) -> i64 {
        if self.import != Some(at) {
            self.import = Some(at);
            self.seen = 0;
        }
        let first = at
            .as_micros()
            .saturating_add(self.seen.saturating_mul(width));
        self.seen += 1;
        first
    }
}

/// A trust group's collection: the versions members posted, each judged
/// by `decide` as group content with its own marking and author. Read in
/// windows after the resume point (the page and one more row, doubled
/// while that cannot decide the page) with every version of the objects
/// in the window, so a page costs what it holds, not the collection; one
/// object (or `match[id]`) reads just those objects' versions.
async fn read_group(
    app: &App,
    caller: &Caller,
    g: &TrustGroup,
    filter: &Filter,
    with_objects: bool,
) -> Result<ItemsPage, AppError> {
    let alias = group_alias(g);
    let now = app.clock.now();
    let visible = |rows: Vec<isx_store::ExchangeEntry>| -> Vec<Entry> {
        rows.into_iter()
            .filter(|e| {
                isx_policy::decide(
                    &caller.principal,
                    &records::exchange_object(g, e.marking, e.author),
                    now,
                )
                .is_allowed()
            })
            .map(|e| Entry {
                id: e.id,
                object_type: e.object_type,
                version: e.version,
                spec_version: e.spec_version,
                date_added: e.added,
            })
            .collect()
    };
    let start = match (filter.added_after, filter.after) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a
            .or(b)
            .unwrap_or(isx_domain::Timestamp::from_micros(i64::MIN)),
    };
    let cap = u32::try_from(SCAN_ROWS).unwrap_or(100_000);
    let mut window = u32::try_from(filter.limit.saturating_add(1))
        .unwrap_or(cap)
        .min(cap);
    // Stored as checked JSON text at ingest: served as it is.
    let mut bodies: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    let (chosen, more, next, sealed) = loop {
        if filter.ids.is_empty() && with_objects {
            // The window, its objects' versions and their bodies in one read.
            let (rows, end) = app
                .store
                .exchange_window_with_bodies(&alias, start, window)
                .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for (e, body) in rows {
                bodies.insert(e.added.as_micros(), body);
                entries.push(e);
            }
            let versions = visible(entries);
            if let Some(p) = window_page(&versions, filter, end, window >= cap) {
                let chosen: Vec<Entry> = p.entries.into_iter().cloned().collect();
                break (chosen, p.more, p.next, p.sealed);
            }
            window = window.saturating_mul(2).min(cap);
            continue;
        }
        let (ids, end) = if filter.ids.is_empty() {
            let rows = app.store.exchange_window(&alias, start, window).await?;
            let end = rows
                .last()
                .filter(|_| rows.len() == window as usize)
                .map(|r| r.added);
            let mut ids: Vec<String> = rows.into_iter().map(|e| e.id).collect();
            ids.sort_unstable();
            ids.dedup();
            (ids, end)
        } else {
            (filter.ids.clone(), None)
        };
        // The versions of the window's objects, with their bodies when the
        // page serves objects (one read instead of two).
        let versions = if with_objects {
            let rows = app
                .store
                .exchange_versions_with_bodies(&alias, &ids)
                .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for (e, body) in rows {
                bodies.insert(e.added.as_micros(), body);
                entries.push(e);
            }
            visible(entries)
        } else {
            visible(app.store.exchange_versions_of(&alias, &ids).await?)
        };
        if let Some(p) = window_page(&versions, filter, end, window >= cap) {
            let chosen: Vec<Entry> = p.entries.into_iter().cloned().collect();
            break (chosen, p.more, p.next, p.sealed);
        }
        window = window.saturating_mul(2).min(cap);
    };
    Ok(ItemsPage {
        items: chosen
            .into_iter()
            .map(|e| {
                let body = bodies.remove(&e.date_added.as_micros());
                (e, body)
            })
            .collect(),
        more,
        next,
        sealed,
    })
}

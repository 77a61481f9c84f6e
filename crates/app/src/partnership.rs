//! The partnership read and write paths: contributions to trust groups,
//! their history, discussion, attachments, share requests with the owning
//! member's approval, group rules (retention, reporting duties), reporting
//! status and dashboards. The REST API and the web pages both call these;
//! every read asks the policy function through `records`.

use isx_domain::{GroupId, GroupRole, MemberId, Timestamp, TrustGroup};
use isx_formats::partnership as stix_map;
use isx_partnership::{
    governance, Attachment, Comment, Contribution, ContributionId, ContributionKind, Dashboard,
    NewComment, NewContribution, PiiChoices, ReportingStatus, ShareRequest, ShareStatus,
    ShareTarget,
};
use isx_policy::FieldMask;
use isx_store::{NewContributionRow, NewExchangeObject, ShareDecision};

use crate::identity::Caller;
use crate::records;
use crate::App;
use crate::AppError;

/// A group as the caller reaches it, with the caller's role in it (the
/// operator acts as an owner).
pub struct GroupAccess {
    pub group: TrustGroup,
    pub role: Option<GroupRole>,
}

/// The caller's role in a group: the operator's administrators act as
/// owners; others have the role the roster gives them, if any.
pub async fn role_in(
    app: &App,
    caller: &Caller,
    g: &TrustGroup,
) -> Result<Option<GroupRole>, AppError> {
    if caller.is_admin() {
        return Ok(Some(GroupRole::Owner));
    }
    membership(app, caller, g).await
}

/// The role the caller's member holds in `g` as a member of it (`None`
/// when it is not one — also for the operator's administrators, who act
/// as owners of every group without being in it).
pub async fn membership(
    app: &App,
    caller: &Caller,
    g: &TrustGroup,
) -> Result<Option<GroupRole>, AppError> {
    Ok(app
        .store
        .group_members(g.id)
        .await?
        .into_iter()
        .find(|m| m.member == caller.member.id)
        .map(|m| m.role))
}

/// Whether `role` may write to `g` at `now`: owners and contributors, while
/// the group is open (an ad hoc group past its end date is read-only).
/// Contributions and TAXII posts share this rule.
pub fn may_write(g: &TrustGroup, role: Option<GroupRole>, now: Timestamp) -> bool {
    !g.is_closed(now) && matches!(role, Some(GroupRole::Owner | GroupRole::Contributor))
}

impl GroupAccess {
    /// Whether the caller may post and edit here now ([`may_write`]), with
    /// the reason when not.
    pub fn require_writer(&self, now: Timestamp) -> Result<(), AppError> {
        if may_write(&self.group, self.role, now) {
            return Ok(());
        }
        if self.group.is_closed(now) {
            return Err(AppError::Forbidden(format!(
                "trust group {:?} closed at its end date and is read-only",
                self.group.name
            )));
        }
        Err(AppError::Forbidden(
            "readers of a trust group cannot post or comment; ask an owner for the contributor role"
                .into(),
        ))
    }

    pub fn is_owner(&self) -> bool {
        self.role == Some(GroupRole::Owner)
    }
}

/// A contribution as the caller may see it: the author is `None` when the
/// policy withholds it.
#[derive(Clone)]
pub struct Seen {
    pub c: Contribution,
    pub author: Option<MemberId>,
}

/// A comment as the caller may see it.
pub struct SeenComment {
    pub comment: Comment,
    pub author: Option<MemberId>,
}

fn not_found(id: impl std::fmt::Display, what: &str) -> AppError {
    AppError::NotFound(format!("{what} {id}"))
}

/// The group, if the caller may see it (404 otherwise, as if absent).
pub async fn group_for(app: &App, caller: &Caller, id: GroupId) -> Result<GroupAccess, AppError> {
    let group = app
        .store
        .group(id)
        .await?
        .filter(|g| records::may_see(app, caller, &records::group(g)))
        .ok_or_else(|| not_found(id, "trust group"))?;
    let role = role_in(app, caller, &group).await?;
    Ok(GroupAccess { group, role })
}

fn seen(app: &App, caller: &Caller, g: &TrustGroup, mut c: Contribution) -> Option<Seen> {
    let mask = records::decide_for(app, caller, &records::contribution(g, &c)).mask()?;
    let author = (!mask.hides(FieldMask::AUTHOR)).then_some(c.author);
    if author.is_none() {
        // The origin of a shared copy would lead back to its author.
        c.origin = None;
    }
    Some(Seen { c, author })
}

/// The contributions of a group the caller may see, newest first.
pub async fn list(app: &App, caller: &Caller, g: &TrustGroup) -> Result<Vec<Seen>, AppError> {
    Ok(app
        .store
        .contributions(Some(g.id))
        .await?
        .into_iter()
        .filter_map(|c| seen(app, caller, g, c))
        .collect())
}

/// One contribution, with its group, if the caller may see it.
pub async fn get(
    app: &App,
    caller: &Caller,
    id: ContributionId,
) -> Result<(GroupAccess, Seen), AppError> {
    let c = app
        .store
        .contribution(id)
        .await?
        .ok_or_else(|| not_found(id, "contribution"))?;
    let access = group_for(app, caller, c.group)
        .await
        .map_err(|_| not_found(id, "contribution"))?;
    let s = seen(app, caller, &access.group, c).ok_or_else(|| not_found(id, "contribution"))?;
    Ok((access, s))
}

/// What a member sends to post or edit: the content and the answer to the
/// PII detector.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Draft {
    #[serde(flatten)]
    pub content: NewContribution,
    #[serde(default)]
    pub pii: PiiChoices,
}

fn stix_prefix(kind: ContributionKind) -> &'static str {
    match kind {
        ContributionKind::Incident => "incident",
        ContributionKind::Sighting => "sighting",
        ContributionKind::Indicator => "indicator",
        ContributionKind::Mitigation => "course-of-action",
        ContributionKind::Analysis => "report",
    }
}

fn new_stix_id(kind: &str) -> String {
    isx_formats::stix::object_id(kind, &crate::identity::random_hex32())
}

fn exchange_objects(
    objects: Vec<serde_json::Value>,
    marking: isx_domain::Tlp,
) -> Vec<NewExchangeObject> {
    objects
        .into_iter()
        .filter_map(|o| {
            let version = isx_formats::stix::version_of(&o)?;
            Some(NewExchangeObject {
                id: o.get("id")?.as_str()?.to_owned(),
                object_type: o.get("type")?.as_str()?.to_owned(),
                version,
                spec_version: "2.1".into(),
                marking,
                body: o.to_string(),
            })
        })
        .collect()
}

/// The TAXII objects of a contribution in its group; `instance` is the id
/// of the instance's STIX identity.
fn contribution_stix(
    instance: &str,
    g: &TrustGroup,
    c: &Contribution,
    attachments: &[Attachment],
) -> Vec<NewExchangeObject> {
    let show_author = !c.content.anonymous && !g.hide_members;
    exchange_objects(
        stix_map::stix_contribution(c, attachments, instance, show_author),
        c.content.marking,
    )
}

/// Stores a checked (and PII-reviewed) contribution with its TAXII objects.
/// The write path of posting, of approved shares, and of the demo.
pub async fn store_new(
    store: &dyn isx_store::Store,
    instance: &str,
    g: &TrustGroup,
    author: MemberId,
    content: NewContribution,
    origin: Option<ContributionId>,
    now: Timestamp,
) -> Result<Contribution, isx_store::StoreError> {
    let stix_id = new_stix_id(stix_prefix(content.kind()));
    let c = unsaved(g, author, content, stix_id, origin, now);
    let stix = contribution_stix(instance, g, &c, &[]);
    let row = NewContributionRow {
        group: g.id,
        author,
        content: &c.content,
        stix_id: &c.stix_id,
        origin,
    };
    store.insert_contribution(&row, &stix, now).await
}

/// Stores checked (and PII-reviewed) contributions, each with the STIX id
/// it was given, in one transaction: all or none. The write path of
/// imports (MISP events).
pub async fn store_all(
    store: &dyn isx_store::Store,
    instance: &str,
    g: &TrustGroup,
    author: MemberId,
    items: Vec<(NewContribution, String)>,
    now: Timestamp,
) -> Result<Vec<ContributionId>, isx_store::StoreError> {
    let unsaved: Vec<Contribution> = items
        .into_iter()
        .map(|(content, stix_id)| unsaved(g, author, content, stix_id, None, now))
        .collect();
    let rows: Vec<(NewContributionRow<'_>, Vec<NewExchangeObject>)> = unsaved
        .iter()
        .map(|c| {
            (
                NewContributionRow {
                    group: g.id,
                    author,
                    content: &c.content,
                    stix_id: &c.stix_id,
                    origin: None,
                },
                contribution_stix(instance, g, c, &[]),
            )
        })
        .collect();
    store.insert_contributions(&rows, now).await
}

/// Stores a checked comment with its STIX note.
pub async fn store_comment(
    store: &dyn isx_store::Store,
    g: &TrustGroup,
    c: &Contribution,
    author: MemberId,
    new: &NewComment,
    now: Timestamp,
) -> Result<Comment, isx_store::StoreError> {
    let stix_id = new_stix_id("note");
    let preview = Comment {
        id: 0,
        contribution: c.id,
        parent: new.parent,
        author,
        anonymous: new.anonymous,
        text: new.text.clone(),
        created_at: now,
        stix_id: stix_id.clone(),
    };
    let show_author = !new.anonymous && !g.hide_members;
    let note = stix_map::stix_note(c, &preview, show_author);
    let stix = exchange_objects(vec![note], c.content.marking);
    store
        .insert_comment(c, author, new, &stix_id, &stix, now)
        .await
}

fn unsaved(
    g: &TrustGroup,
    author: MemberId,
    content: NewContribution,
    stix_id: String,
    origin: Option<ContributionId>,
    now: Timestamp,
) -> Contribution {
    Contribution {
        id: ContributionId(0),
        group: g.id,
        author,
        content,
        version: 1,
        created_at: now,
        updated_at: now,
        origin,
        stix_id,
    }
}

/// Posts a contribution to a group: checked, every PII finding redacted or
/// kept by the contributor, stored with its TAXII objects.
pub async fn create(
    app: &App,
    caller: &Caller,
    group: GroupId,
    draft: Draft,
) -> Result<Contribution, AppError> {
    let now = app.clock.now();
    let access = group_for(app, caller, group).await?;
    access.require_writer(now)?;
    let mut content = draft.content.checked()?;
    let kept = governance::check_pii_choices(&mut content, &draft.pii)?;
    if !kept.is_empty() {
        tracing::info!(
            kept = kept.len(),
            "contribution posted with personal data kept by its author"
        );
    }
    let instance = app.stix_identity_id();
    Ok(store_new(
        app.store.as_ref(),
        &instance,
        &access.group,
        caller.member.id,
        content,
        None,
        now,
    )
    .await?)
}

/// Edits a contribution (its author only, while the group is open): the
/// next version, with every earlier one kept.
pub async fn edit(
    app: &App,
    caller: &Caller,
    id: ContributionId,
    expected_version: u32,
    draft: Draft,
) -> Result<Contribution, AppError> {
    let now = app.clock.now();
    let (access, s) = get(app, caller, id).await?;
    if s.c.author != caller.member.id {
        return Err(AppError::Forbidden(
            "only the member that posted a contribution edits it".into(),
        ));
    }
    access.require_writer(now)?;
    let mut content = draft.content.checked()?;
    if content.kind() != s.c.kind() {
        return Err(AppError::Validation {
            detail: format!(
                "a {} stays a {}: post a new contribution instead",
                s.c.kind(),
                s.c.kind()
            ),
            pointer: Some("/details/kind".into()),
        });
    }
    governance::check_pii_choices(&mut content, &draft.pii)?;
    let instance = app.stix_identity_id();
    Ok(store_edit(
        app.store.as_ref(),
        &instance,
        &access.group,
        &s.c,
        expected_version,
        content,
        now,
    )
    .await?)
}

/// Stores a checked edit of `c` by its author as the next version, with
/// the new version of its TAXII object.
pub async fn store_edit(
    store: &dyn isx_store::Store,
    instance: &str,
    g: &TrustGroup,
    c: &Contribution,
    expected_version: u32,
    content: NewContribution,
    now: Timestamp,
) -> Result<Contribution, isx_store::StoreError> {
    let mut next = c.clone();
    next.content = content;
    next.updated_at = now;
    let attachments = store.attachments(c.id).await?;
    let stix = contribution_stix(instance, g, &next, &attachments);
    store
        .update_contribution(c.id, c.author, expected_version, &next.content, &stix, now)
        .await
}

/// Every version of a contribution the caller may see (authors masked as
/// the contribution's are).
pub async fn history(
    app: &App,
    caller: &Caller,
    id: ContributionId,
) -> Result<Vec<isx_partnership::Version>, AppError> {
    let (_, s) = get(app, caller, id).await?;
    let mut versions = app.store.contribution_versions(id).await?;
    if s.author.is_none() {
        for v in &mut versions {
            v.editor = MemberId(0);
        }
    }
    Ok(versions)
}

/// A comment, what the member sends: the text and the PII answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CommentDraft {
    #[serde(flatten)]
    pub comment: NewComment,
    #[serde(default)]
    pub pii: PiiChoices,
}

pub async fn comment(
    app: &App,
    caller: &Caller,
    id: ContributionId,
    draft: CommentDraft,
) -> Result<Comment, AppError> {
    let now = app.clock.now();
    let (access, s) = get(app, caller, id).await?;
    access.require_writer(now)?;
    let mut new = draft.comment.checked()?;
    governance::confirm_pii(vec![&mut new.text], &draft.pii)?;
    Ok(store_comment(
        app.store.as_ref(),
        &access.group,
        &s.c,
        caller.member.id,
        &new,
        now,
    )
    .await?)
}

/// The discussion of a contribution, in thread order, as the caller may
/// see it.
pub async fn discussion(
    app: &App,
    caller: &Caller,
    id: ContributionId,
) -> Result<Vec<(usize, SeenComment)>, AppError> {
    let (access, s) = get(app, caller, id).await?;
    let comments = app.store.comments(id).await?;
    Ok(isx_partnership::discussion::threaded(&comments)
        .into_iter()
        .filter_map(|(depth, k)| {
            let mask = records::decide_for(app, caller, &records::comment(&access.group, &s.c, k))
                .mask()?;
            Some((
                depth,
                SeenComment {
                    comment: k.clone(),
                    author: (!mask.hides(FieldMask::AUTHOR)).then_some(k.author),
                },
            ))
        })
        .collect())
}

/// Attaches a file to a contribution (its author, while the group is open).
pub async fn attach(
    app: &App,
    caller: &Caller,
    id: ContributionId,
    name: &str,
    media_type: &str,
    bytes: &[u8],
    pii: &isx_partnership::PiiChoices,
) -> Result<Attachment, AppError> {
    let now = app.clock.now();
    let (access, s) = get(app, caller, id).await?;
    if s.c.author != caller.member.id {
        return Err(AppError::Forbidden(
            "only the member that posted a contribution attaches files to it".into(),
        ));
    }
    access.require_writer(now)?;
    Attachment::check(name, media_type, bytes.len())?;
    // The name and the body are free text a member posts: reviewed like a
    // contribution's texts before anyone else can read them.
    let mut name = name.to_owned();
    let mut body = bytes.to_vec();
    let kept = governance::review_attachment(&mut name, &mut body, pii)?;
    if !kept.is_empty() {
        tracing::info!(
            kept = kept.len(),
            "attachment stored with personal data kept by its author"
        );
    }
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
    Ok(app
        .store
        .insert_attachment(id, &name, media_type.trim(), &body, &sha256, now)
        .await?)
}

/// An attachment and its bytes, if the caller may see its contribution.
pub async fn attachment(
    app: &App,
    caller: &Caller,
    id: i64,
) -> Result<(Attachment, Vec<u8>), AppError> {
    let (contribution, a, bytes) = app
        .store
        .attachment(id)
        .await?
        .ok_or_else(|| not_found(id, "attachment"))?;
    get(app, caller, contribution)
        .await
        .map_err(|_| not_found(id, "attachment"))?;
    Ok((a, bytes))
}

/// Asks to share a contribution wider than its group. The caller must see
/// the contribution and (for a group) belong to the target group.
pub async fn request_share(
    app: &App,
    caller: &Caller,
    id: ContributionId,
    target: ShareTarget,
    reason: &str,
    pii: &isx_partnership::PiiChoices,
) -> Result<ShareRequest, AppError> {
    let now = app.clock.now();
    let (_, s) = get(app, caller, id).await?;
    ShareRequest::check_new(s.c.kind(), s.c.group, target, reason)?;
    // The reason goes to the owning member: free text, reviewed too.
    let mut reason = reason.to_owned();
    governance::confirm_pii(vec![&mut reason], pii)?;
    let reason = reason.as_str();
    match target {
        ShareTarget::Group { group } => {
            let to = group_for(app, caller, group).await?;
            if to.role.is_none() {
                return Err(not_found(group, "trust group"));
            }
        }
        ShareTarget::UrlFeed => {
            if !matches!(
                s.c.content.details,
                isx_partnership::Details::Indicator {
                    indicator_type: isx_partnership::IndicatorType::Url,
                    ..
                }
            ) {
                return Err(AppError::Validation {
                    detail: "only URL indicators can go into the malicious-URL feed".into(),
                    pointer: Some("/target".into()),
                });
            }
        }
    }
    Ok(app
        .store
        .insert_share(id, target, caller.member.id, reason.trim(), now)
        .await?)
}

/// A share request with its contribution, as the caller may see them.
pub struct SeenShare {
    pub request: ShareRequest,
    pub contribution: Contribution,
    /// Whether the caller is the owning member, who decides.
    pub decides: bool,
    /// Whether the caller may know who asked (not in a group that hides
    /// its member list, unless the caller asked or is the operator).
    pub requester_shown: bool,
}

async fn seen_share(
    app: &App,
    caller: &Caller,
    r: ShareRequest,
) -> Result<Option<SeenShare>, AppError> {
    let Some(c) = app.store.contribution(r.contribution).await? else {
        return Ok(None);
    };
    if !records::may_see(app, caller, &records::share_request(&c, &r)) {
        return Ok(None);
    }
    // The request shows the contribution (its title, where it went): only
    // to those who may still see the contribution itself — a requester
    // removed from the group since sees neither.
    let group = app.store.group(c.group).await?;
    let sees_contribution = group
        .as_ref()
        .is_some_and(|g| records::may_see(app, caller, &records::contribution(g, &c)));
    if !sees_contribution {
        return Ok(None);
    }
    let requester_shown = match group {
        Some(g) => records::decide_for(app, caller, &records::share_requester(&g, &r))
            .mask()
            .is_some_and(|m| !m.hides(FieldMask::AUTHOR)),
        None => caller.is_admin(),
    };
    Ok(Some(SeenShare {
        decides: c.author == caller.member.id,
        requester_shown,
        request: r,
        contribution: c,
    }))
}

/// The share requests the caller may see (those it made, and those about
/// its own contributions), newest first.
pub async fn shares(app: &App, caller: &Caller) -> Result<Vec<SeenShare>, AppError> {
    let mut out = Vec::new();
    for r in app.store.shares().await? {
        if let Some(s) = seen_share(app, caller, r).await? {
            out.push(s);
        }
    }
    Ok(out)
}

pub async fn share(app: &App, caller: &Caller, id: i64) -> Result<SeenShare, AppError> {
    let r = app
        .store
        .share(id)
        .await?
        .ok_or_else(|| not_found(id, "share request"))?;
    seen_share(app, caller, r)
        .await?
        .ok_or_else(|| not_found(id, "share request"))
}

/// The owning member approves (with its answer to the PII detector for the
/// wider audience) or rejects a share request. Approval posts a redacted
/// copy to the target group, or the URL to the malicious-URL feed.
pub async fn decide_share(
    app: &App,
    caller: &Caller,
    id: i64,
    approve: bool,
    pii: &PiiChoices,
) -> Result<ShareRequest, AppError> {
    let now = app.clock.now();
    let s = share(app, caller, id).await?;
    if !s.decides {
        return Err(AppError::Forbidden(
            "only the member that owns the contribution decides where it is shared".into(),
        ));
    }
    if s.request.status != ShareStatus::Pending {
        return Err(AppError::Conflict(format!(
            "share request {id} was already {}",
            s.request.status.as_str()
        )));
    }
    if !approve {
        return Ok(app
            .store
            .decide_share(id, ShareDecision::Reject, now)
            .await?);
    }
    let mut content = s.contribution.content.clone();
    governance::check_pii_choices(&mut content, pii)?;
    // A contribution from a group that hides its member list stays
    // anonymous wherever it is shared: naming its author (or linking the
    // copy to its origin) would tell the target group who belongs.
    let source = app.store.group(s.contribution.group).await?;
    if source.as_ref().is_none_or(|g| g.hide_members) {
        content.anonymous = true;
    }
    match s.request.target {
        ShareTarget::Group { group } => {
            let target = app
                .store
                .group(group)
                .await?
                .ok_or_else(|| not_found(group, "trust group"))?;
            if target.is_closed(now) {
                return Err(AppError::Forbidden(format!(
                    "trust group {:?} closed at its end date and is read-only",
                    target.name
                )));
            }
            let stix_id = new_stix_id(stix_prefix(content.kind()));
            let copy = unsaved(
                &target,
                s.contribution.author,
                content,
                stix_id,
                Some(s.contribution.id),
                now,
            );
            let instance = app.stix_identity_id();
            let stix = contribution_stix(&instance, &target, &copy, &[]);
            let row = NewContributionRow {
                group: target.id,
                author: copy.author,
                content: &copy.content,
                stix_id: &copy.stix_id,
                origin: copy.origin,
            };
            Ok(app
                .store
                .decide_share(id, ShareDecision::ApproveCopy(&row, &stix), now)
                .await?)
        }
        ShareTarget::UrlFeed => {
            let isx_partnership::Details::Indicator { value, .. } = &content.details else {
                return Err(AppError::Validation {
                    detail: "only URL indicators can go into the malicious-URL feed".into(),
                    pointer: Some("/target".into()),
                });
            };
            // The URL is checked and enriched like an imported row, then
            // merged into the feed in the transaction that approves.
            let obs = isx_urls::UrlObservation {
                url: value.clone(),
                ..Default::default()
            };
            let defaults = isx_urls::ImportDefaults {
                source: format!("trust group {}", s.contribution.group),
                tlp: content.marking,
                confidence: crate::urls::ImportOptions::default().confidence,
                threat: isx_domain::ThreatType::Other,
                now,
            };
            let candidate = crate::urls::candidate(&obs, &defaults, &app.geo).map_err(|e| {
                AppError::Validation {
                    detail: format!("the URL could not enter the feed: {e}"),
                    pointer: Some("/details/value".into()),
                }
            })?;
            let source = format!("contribution-{}", s.contribution.id);
            let actor = caller.actor();
            let batch = isx_store::UrlBatch {
                candidates: std::slice::from_ref(&candidate),
                source: &source,
                actor: &actor,
            };
            Ok(app
                .store
                .decide_share(id, ShareDecision::ApproveUrls(&batch), now)
                .await?)
        }
    }
}

/// Changes a group's rules (its owners and the operator).
pub async fn put_rules(
    app: &App,
    caller: &Caller,
    group: GroupId,
    rules: isx_partnership::GroupRules,
) -> Result<isx_partnership::GroupRules, AppError> {
    let access = group_for(app, caller, group).await?;
    if !access.is_owner() {
        return Err(AppError::Forbidden(
            "only the group's owners and operator administrators change its rules".into(),
        ));
    }
    let rules = rules.checked()?;
    app.store.put_group_rules(group, &rules).await?;
    Ok(rules)
}

/// Who has reported in the group's mandatory categories this period (the
/// group's owners and the operator). A contribution whose author the policy
/// withholds from the caller (anonymous) is not attributed.
pub async fn reporting(
    app: &App,
    caller: &Caller,
    group: GroupId,
) -> Result<Vec<ReportingStatus>, AppError> {
    let access = group_for(app, caller, group).await?;
    let roster = app.store.group_members(group).await?;
    if !records::may_see(
        app,
        caller,
        &records::group_reporting(&access.group, &roster),
    ) {
        return Err(not_found(group, "reporting status of trust group"));
    }
    let rules = app.store.group_rules(group).await?;
    let rows: Vec<(MemberId, ContributionKind, Timestamp)> = list(app, caller, &access.group)
        .await?
        .into_iter()
        .filter_map(|s| s.author.map(|a| (a, s.c.kind(), s.c.created_at)))
        .collect();
    let members: Vec<MemberId> = roster.iter().map(|m| m.member).collect();
    Ok(isx_partnership::reporting(
        &rules,
        &members,
        &rows,
        app.clock.now(),
    ))
}

/// The dashboard of one group, or (`None`) of every group the caller may
/// see.
pub async fn dashboard(
    app: &App,
    caller: &Caller,
    group: Option<GroupId>,
    days: u32,
) -> Result<Dashboard, AppError> {
    let groups = match group {
        Some(g) => vec![group_for(app, caller, g).await?.group],
        None => app
            .store
            .groups()
            .await?
            .into_iter()
            .filter(|g| records::may_see(app, caller, &records::group(g)))
            .collect(),
    };
    let mut all = Vec::new();
    for g in &groups {
        all.extend(list(app, caller, g).await?.into_iter().map(|s| s.c));
    }
    let refs: Vec<&Contribution> = all.iter().collect();
    Ok(isx_partnership::dashboard::dashboard(
        &refs,
        days.clamp(1, 366),
        app.clock.now(),
    ))
}

/// Deletes contributions past their group's retention period. Run by the
/// scheduler; returns how many went.
pub async fn prune(
    store: &dyn isx_store::Store,
    now: Timestamp,
) -> Result<u64, isx_store::StoreError> {
    let mut total = 0;
    for g in store.groups().await? {
        if let Some(cutoff) = store.group_rules(g.id).await?.retention_cutoff(now) {
            total += store.prune_contributions(g.id, cutoff).await?;
        }
    }
    if total > 0 {
        tracing::info!(
            pruned = total,
            "contributions past their group's retention deleted"
        );
    }
    Ok(total)
}

//! Threaded discussion on a contribution.

use isx_domain::{MemberId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{check_text, ContributionId, PartnershipError};

/// A comment as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewComment {
    pub text: String,
    /// The comment it answers (threads).
    #[serde(default)]
    pub parent: Option<i64>,
    #[serde(default)]
    pub anonymous: bool,
}

impl NewComment {
    pub fn checked(mut self) -> Result<NewComment, PartnershipError> {
        self.text = self.text.trim().to_owned();
        check_text("text", &self.text, 20_000, true)?;
        Ok(self)
    }
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub contribution: ContributionId,
    pub parent: Option<i64>,
    pub author: MemberId,
    pub anonymous: bool,
    pub text: String,
    pub created_at: Timestamp,
    /// The STIX id of its `note`.
    pub stix_id: String,
}

/// Comments in thread order: each followed by its answers (depth-first,
/// oldest first), with its depth. Comments whose parent is missing are
/// shown at the top level.
pub fn threaded(comments: &[Comment]) -> Vec<(usize, &Comment)> {
    let ids: std::collections::HashSet<i64> = comments.iter().map(|c| c.id).collect();
    let mut roots: Vec<&Comment> = comments
        .iter()
        .filter(|c| c.parent.is_none_or(|p| !ids.contains(&p)))
        .collect();
    roots.sort_by_key(|c| (c.created_at, c.id));
    let mut out = Vec::with_capacity(comments.len());
    let mut stack: Vec<(usize, &Comment)> = roots.into_iter().rev().map(|c| (0, c)).collect();
    while let Some((depth, c)) = stack.pop() {
        out.push((depth, c));
        let mut kids: Vec<&Comment> = comments.iter().filter(|k| k.parent == Some(c.id)).collect();
        kids.sort_by_key(|k| (k.created_at, k.id));
        stack.extend(kids.into_iter().rev().map(|k| (depth + 1, k)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: i64, parent: Option<i64>, at: i64) -> Comment {
        Comment {
            id,
            contribution: ContributionId(1),
            parent,
            author: MemberId(1),
            anonymous: false,
            text: format!("c{id}"),
            created_at: Timestamp::from_secs(at),
            stix_id: String::new(),
        }
    }

    #[test]
    fn threads_depth_first() {
        let all = [
            c(1, None, 1),
            c(2, None, 2),
            c(3, Some(1), 3),
            c(4, Some(3), 4),
            c(5, Some(1), 5),
            c(6, Some(99), 6),
        ];
        let order: Vec<(usize, i64)> = threaded(&all).into_iter().map(|(d, c)| (d, c.id)).collect();
        assert_eq!(order, vec![(0, 1), (1, 3), (2, 4), (1, 5), (0, 2), (0, 6)]);
        assert!(NewComment {
            text: " ".into(),
            parent: None,
            anonymous: false
        }
        .checked()
        .is_err());
    }
}

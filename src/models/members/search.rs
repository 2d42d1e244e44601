//! Searching the roll: the text each member is found by, the terms, and the
//! `member_words` reads that serve a search by name on PostgreSQL.
use sea_orm::{ActiveValue::Set, ConnectionTrait, QuerySelect, QueryTrait};

use crate::models::{
    _entities::members::{ActiveModel, Model},
    structure::Directory,
    tenants::Tenant,
    Result,
};

use super::{filter::conditions_with, roll::matching, After, MemberFilter, MemberPage, Total};
use crate::models::tenancy::LocalTxn;

/// What search matches: names, email, phone digits, employee number, lower-cased.
pub(super) fn search_text(m: &ActiveModel) -> String {
    let text = |v: &sea_orm::ActiveValue<String>| match v {
        Set(s) | sea_orm::ActiveValue::Unchanged(s) => s.clone(),
        sea_orm::ActiveValue::NotSet => String::new(),
    };
    let opt = |v: &sea_orm::ActiveValue<Option<String>>| match v {
        Set(Some(s)) | sea_orm::ActiveValue::Unchanged(Some(s)) => s.clone(),
        _ => String::new(),
    };
    let phone: String = opt(&m.phone).chars().filter(char::is_ascii_digit).collect();
    format!(
        "{} {} {} {} {}",
        text(&m.first_name),
        text(&m.last_name),
        opt(&m.email),
        phone,
        opt(&m.employee_number)
    )
    .to_lowercase()
}

/// How a search term matches a member's search text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Match {
    /// The start of a word: what people type ("mar" finds Martin, Mary).
    WordStart,
    /// Anywhere inside (the middle of a phone number), when no word starts so.
    Anywhere,
}

/// The words of a search text as `member_words` holds them (migration 14's
/// `member_words_of`, 18's): split at spaces, at most 200 characters each,
/// only those of names (see [`is_name_word`]).
pub(super) fn words(search: &str) -> impl Iterator<Item = String> + '_ {
    search
        .split(' ')
        .filter(|w| !w.is_empty() && is_name_word(w))
        .map(|w| w.chars().take(200).collect())
}

/// Whether a word is read from `member_words`: not an email, phone digits
/// or an employee number (a digit or `@` in it). Those are long and rare,
/// and the trigram index finds them fast.
pub(super) fn is_name_word(word: &str) -> bool {
    !word.chars().any(|c| c.is_ascii_digit() || c == '@')
}

/// The first (in byte order) of `search`'s words that starts with `term`.
pub(super) fn first_word_starting(search: &str, term: &str) -> Option<String> {
    words(search).filter(|w| w.starts_with(term)).min()
}

/// The search terms as people type them, lower-cased; phone-like terms
/// also match without their separators.
pub(super) fn search_terms(raw: &str) -> Vec<String> {
    // Control characters are no part of a name (and PostgreSQL refuses NUL in text).
    let raw: String = raw
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
    raw.split_whitespace()
        .map(|t| {
            let t = t.to_lowercase();
            let digits: String = t.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 3 && t.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c)) {
                digits
            } else {
                t
            }
        })
        .filter(|t| !t.is_empty())
        .take(5)
        .collect()
}

pub(super) fn like_escape(term: &str) -> String {
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Searches count exactly up to here; past it "more than".
pub(super) const WORD_COUNT_LIMIT: u64 = 1_000;

/// `[term, term + the last character)`: the words starting with `term` in
/// byte order (`member_words.word` is `COLLATE "C"`).
pub(super) fn word_range(term: &str) -> (String, String) {
    (term.to_string(), format!("{term}\u{10FFFF}"))
}

/// How many live members have a word starting with `term`: exact up to
/// [`WORD_COUNT_LIMIT`]. It reads one word past the limit, then four times
/// as many, then all, until the words it read are all there are or name
/// more members than the limit (a member may have several that match).
pub(super) async fn word_count(txn: &LocalTxn, tenant: &Tenant, term: &str) -> Result<Total> {
    let count = |cap: Option<u64>| {
        let (from, to) = word_range(term);
        let limit = cap.map_or(String::new(), |n| format!("LIMIT {n}"));
        sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT count(DISTINCT member_id), count(*) FROM (SELECT member_id FROM member_words
                   WHERE tenant_id = $1 AND word >= $2 AND word < $3 {limit}) AS m"
            ),
            [tenant.id().into(), from.into(), to.into()],
        )
    };
    let counted = |row: Option<sea_orm::QueryResult>| -> (u64, u64) {
        let get = |i| {
            row.as_ref()
                .and_then(|r| r.try_get_by_index::<i64>(i).ok())
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0)
        };
        (get(0), get(1))
    };
    // Most members have one matching word: the first read usually decides.
    for cap in [
        Some(WORD_COUNT_LIMIT + 1),
        Some(4 * WORD_COUNT_LIMIT + 1),
        None,
    ] {
        let (members, words) = counted(txn.query_one_raw(count(cap)).await?);
        if members > WORD_COUNT_LIMIT {
            return Ok(Total::MoreThan(WORD_COUNT_LIMIT));
        }
        if cap.is_none_or(|cap| words < cap) {
            return Ok(Total::Exact(members));
        }
    }
    Ok(Total::MoreThan(WORD_COUNT_LIMIT))
}

/// A page of the members with a word starting with `term`, read from
/// `member_words` in its index order: by that word, then by name. So the
/// page costs its own rows, however many match. A member with several
/// such words is listed under the first of them only.
pub(super) async fn words_page(
    txn: &LocalTxn,
    tenant: &Tenant,
    term: &str,
    after: Option<&After>,
    limit: u64,
) -> Result<MemberPage> {
    use sea_orm::FromQueryResult;
    if limit == 0 {
        return Ok(MemberPage {
            members: vec![],
            next: None,
        });
    }
    let wanted = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    // Few members have two words starting alike: a page's rows and a few
    // more usually fill it in one read.
    let mut chunk = wanted.saturating_add(2);
    let (from, to) = word_range(term);
    let mut at: Option<(String, String, String, i32)> = after.and_then(|a| {
        a.word
            .clone()
            .map(|w| (w, a.last_name.clone(), a.first_name.clone(), a.id))
    });
    let mut listed: Vec<(String, Model)> = Vec::new();
    let mut seen: std::collections::HashSet<i32> = std::collections::HashSet::new();
    loop {
        let mut values: Vec<sea_orm::Value> = vec![
            tenant.id().into(),
            from.clone().into(),
            to.clone().into(),
            i64::try_from(chunk).unwrap_or(i64::MAX).into(),
        ];
        let past = if let Some((w, l, f, id)) = at.clone() {
            values.extend([w.into(), l.into(), f.into(), id.into()]);
            "AND (word, last_name, first_name, member_id) > ($5, $6, $7, $8)"
        } else {
            ""
        };
        // The words in order, each with its member (none when archived meanwhile).
        let rows = txn
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                format!(
                    "SELECT w.word AS w_word, w.last_name AS w_last, w.first_name AS w_first,
                            w.member_id AS w_id, m.*
                     FROM (SELECT word, last_name, first_name, member_id FROM member_words
                           WHERE tenant_id = $1 AND word >= $2 AND word < $3 {past}
                           ORDER BY word, last_name, first_name, member_id LIMIT $4) AS w
                     LEFT JOIN members m
                       ON m.tenant_id = $1 AND m.id = w.member_id AND m.archived_at IS NULL
                     ORDER BY w.word, w.last_name, w.first_name, w.member_id"
                ),
                values,
            ))
            .await?;
        let last_chunk = rows.len() < chunk;
        for row in rows {
            let entry: (String, String, String, i32) = (
                row.try_get("", "w_word")?,
                row.try_get("", "w_last")?,
                row.try_get("", "w_first")?,
                row.try_get("", "w_id")?,
            );
            let word = entry.0.clone();
            at = Some(entry);
            let Ok(m) = Model::from_query_result(&row, "") else {
                continue;
            };
            // Listed under the first of their words that match, once.
            if first_word_starting(&m.search, term).as_deref() == Some(word.as_str())
                && seen.insert(m.id)
            {
                listed.push((word, m));
                if listed.len() == wanted {
                    break;
                }
            }
        }
        if listed.len() == wanted || last_chunk {
            break;
        }
        chunk = chunk.saturating_mul(2);
    }
    let more = listed.len() == wanted;
    listed.truncate(wanted - 1);
    let next = if more {
        listed.last().map(|(word, m)| After {
            word: Some(word.clone()),
            ..After::of(m)
        })
    } else {
        None
    };
    Ok(MemberPage {
        members: listed.into_iter().map(|(_, m)| m).collect(),
        next,
    })
}

/// How the filter's search matches: at the start of words, unless no member
/// of the filter has a word starting so (then anywhere inside).
pub(super) async fn matching_how(
    txn: &LocalTxn,
    directory: &Directory,
    filter: &MemberFilter,
) -> Result<Match> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    if escaped_terms(filter).is_empty() {
        return Ok(Match::WordStart);
    }
    let Some(cond) = conditions_with(directory, filter, postgres, Match::WordStart) else {
        return Ok(Match::WordStart);
    };
    let any = matching(txn, &cond).limit(1).into_query();
    Ok(if txn.query_one(&any).await?.is_some() {
        Match::WordStart
    } else {
        Match::Anywhere
    })
}

/// The search terms, escaped for LIKE.
pub(super) fn escaped_terms(filter: &MemberFilter) -> Vec<String> {
    search_terms(filter.search.as_deref().unwrap_or_default())
        .iter()
        .map(|term| like_escape(term))
        .collect()
}

/// The PostgreSQL search function for `how` (`base` for the middle of
/// words, migrations 8 and 11; `base_words` for their start, migration 14)
/// and its arguments.
pub(super) fn search_function(base: &str, how: Match, terms: Vec<String>) -> (String, Vec<String>) {
    match how {
        Match::WordStart => (format!("{base}_words"), terms),
        Match::Anywhere => (
            base.to_string(),
            terms.into_iter().map(|t| format!("%{t}%")).collect(),
        ),
    }
}

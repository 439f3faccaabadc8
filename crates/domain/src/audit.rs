//! The audit log: typed events, their canonical form, and the hash chain over them.
//!
//! Each stored record holds `hash = SHA-256(prev_hash ‖ canonical(event))`, with 32 zero
//! bytes before the first record. Sequence numbers start at 1 and have no gaps, so editing,
//! deleting, inserting or reordering a record breaks the chain at a sequence number the
//! verifier can name. Truncating the tail leaves a valid shorter chain: that is caught only
//! against a head kept outside the server (`ryoritsu audit head`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::info::InformationCategory;
use crate::org::{Role, coded_enum};

coded_enum! {
    /// What happened.
    AuditAction {
        SignIn = "sign_in" => "サインイン",
        SecondFactor = "second_factor" => "二要素認証",
        SignOut = "sign_out" => "サインアウト",
        SessionEnded = "session_ended" => "セッション終了",
        PasswordChanged = "password_changed" => "パスワード変更",
        TotpEnrolled = "totp_enrolled" => "二要素認証の設定",
        RecoveryCodeUsed = "recovery_code_used" => "回復コードの使用",
        UserCreated = "user_created" => "ユーザー作成",
        UserDeactivated = "user_deactivated" => "ユーザー無効化",
        OrganisationCreated = "organisation_created" => "組織の作成",
        WorkplaceAdded = "workplace_added" => "事業場の追加",
        InvitationCreated = "invitation_created" => "招待の発行",
        InvitationAccepted = "invitation_accepted" => "招待の受諾",
        MembershipGranted = "membership_granted" => "所属・役割の付与",
        MembershipRevoked = "membership_revoked" => "所属・役割の取消",
        Read = "read" => "閲覧",
        AccessDenied = "access_denied" => "アクセス拒否",
        DemoSeeded = "demo_seeded" => "デモデータ作成",
        CaseOpened = "case_opened" => "両立支援の申出",
        CaseStep = "case_step" => "手続きの進行",
        DocumentSaved = "document_saved" => "書類の保存",
        DocumentFinalised = "document_finalised" => "書類の確定",
        ConsentGranted = "consent_granted" => "同意",
        ConsentWithdrawn = "consent_withdrawn" => "同意の撤回",
        Disclosed = "disclosed" => "第三者提供",
        PartyAdded = "party_added" => "関係者の追加",
        ShareCodeIssued = "share_code_issued" => "共有コードの発行",
        NoteWritten = "note_written" => "相談記録の作成",
        ScanUploaded = "scan_uploaded" => "紙の書類の写しの提出",
        Exported = "exported" => "一覧の書き出し",
        CorrectionRequested = "correction_requested" => "訂正の請求",
        CorrectionAnswered = "correction_answered" => "訂正の請求への回答",
        SupportTaskChanged = "support_task_changed" => "支援タスクの更新",
        GuidanceRecorded = "guidance_recorded" => "両立支援指導の記録",
        FacilityStandardsChanged = "facility_standards_changed" => "施設基準の届出の記録",
        RulesChanged = "rules_changed" => "健康情報等取扱規程の変更",
        SettingsChanged = "settings_changed" => "設定変更",
    }
}

coded_enum! {
    Outcome {
        Success = "success" => "成功",
        Failure = "failure" => "失敗",
        Denied = "denied" => "拒否",
    }
}

/// One thing that happened, as the application describes it. The store assigns the
/// sequence number and chains the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Server time of the event; never a time supplied by a client.
    #[serde(with = "crate::time_format::micros")]
    pub at: OffsetDateTime,
    pub actor: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub organisation: Option<Uuid>,
    pub action: AuditAction,
    /// What the action was done to, as `kind:id` (e.g. `user:…`, `organisation:…`).
    pub target: Option<String>,
    pub category: Option<InformationCategory>,
    pub case_id: Option<Uuid>,
    pub outcome: Outcome,
    pub purpose: Option<String>,
    /// The request's operation id, shown on error pages and in the log line.
    pub operation_id: Option<String>,
    pub client_ip: Option<String>,
}

impl AuditEvent {
    pub fn new(at: OffsetDateTime, action: AuditAction, outcome: Outcome) -> AuditEvent {
        AuditEvent {
            at,
            actor: None,
            actor_role: None,
            organisation: None,
            action,
            target: None,
            category: None,
            case_id: None,
            outcome,
            purpose: None,
            operation_id: None,
            client_ip: None,
        }
    }

    /// The bytes that are hashed: JSON with a fixed key order, times in UTC with
    /// microseconds, ids in lower-case hyphenated form. Both stores give back exactly the
    /// values they were given, so the same event always yields the same bytes.
    pub fn canonical_bytes(&self, seq: i64) -> Vec<u8> {
        #[derive(Serialize)]
        struct Canonical<'a> {
            seq: i64,
            at: String,
            actor: Option<Uuid>,
            actor_role: Option<&'static str>,
            organisation: Option<Uuid>,
            action: &'static str,
            target: Option<&'a str>,
            category: Option<&'static str>,
            case_id: Option<Uuid>,
            outcome: &'static str,
            purpose: Option<&'a str>,
            operation_id: Option<&'a str>,
            client_ip: Option<&'a str>,
        }
        let c = Canonical {
            seq,
            at: crate::time_format::format_micros(self.at),
            actor: self.actor,
            actor_role: self.actor_role.map(Role::code),
            organisation: self.organisation,
            action: self.action.code(),
            target: self.target.as_deref(),
            category: self.category.map(InformationCategory::code),
            case_id: self.case_id,
            outcome: self.outcome.code(),
            purpose: self.purpose.as_deref(),
            operation_id: self.operation_id.as_deref(),
            client_ip: self.client_ip.as_deref(),
        };
        serde_json::to_vec(&c).unwrap_or_default()
    }
}

pub const GENESIS_HASH: [u8; 32] = [0; 32];

pub fn chain_hash(prev: &[u8; 32], event: &AuditEvent, seq: i64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(event.canonical_bytes(seq));
    h.finalize().into()
}

/// A record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub event: AuditEvent,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// Chains `event` after `head`.
    pub fn next(head: &ChainHead, event: AuditEvent) -> AuditRecord {
        let seq = head.seq + 1;
        let hash = chain_hash(&head.hash, &event, seq);
        AuditRecord {
            seq,
            event,
            prev_hash: head.hash,
            hash,
        }
    }
}

/// Chains `events` after `head`, in order: the records a run of appends stores.
pub fn chain_after(head: &ChainHead, events: &[AuditEvent]) -> Vec<AuditRecord> {
    let mut head = *head;
    events
        .iter()
        .map(|e| {
            let r = AuditRecord::next(&head, e.clone());
            head = ChainHead {
                seq: r.seq,
                hash: r.hash,
            };
            r
        })
        .collect()
}

/// The latest record's sequence number and hash; `seq = 0` for an empty log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: [u8; 32],
}

impl ChainHead {
    pub const EMPTY: ChainHead = ChainHead {
        seq: 0,
        hash: GENESIS_HASH,
    };

    /// `seq:hex`, the form printed by `ryoritsu audit head` and read back by `verify`.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.seq, hex::encode(self.hash))
    }

    pub fn parse(text: &str) -> Option<ChainHead> {
        let (seq, hash) = text.trim().split_once(':')?;
        let seq = seq.parse().ok()?;
        let bytes = hex::decode(hash).ok()?;
        Some(ChainHead {
            seq,
            hash: bytes.try_into().ok()?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// The record's content or stored hash does not match its chain hash.
    Altered,
    /// The record does not link to the one before it.
    BadLink,
    /// A sequence number is missing (a record was deleted).
    Missing,
    /// A record with a sequence number out of order or out of range (inserted).
    Unexpected,
    /// The log ends before the head kept elsewhere (the tail was cut off).
    Truncated,
    /// The log holds the expected head's sequence number with a different hash.
    HeadMismatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub kind: BreakKind,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            BreakKind::Altered => "内容が記録時と一致しません（改ざん）",
            BreakKind::BadLink => "直前の記録との連結が一致しません",
            BreakKind::Missing => "記録が欠落しています（削除）",
            BreakKind::Unexpected => "想定外の記録があります（挿入・順序の入替え）",
            BreakKind::Truncated => "保管されたヘッドより前で記録が終わっています（末尾の削除）",
            BreakKind::HeadMismatch => "保管されたヘッドとハッシュが一致しません",
        };
        write!(f, "シーケンス番号 {}: {what}", self.seq)
    }
}

/// Checks records fed in ascending order of their stored sequence number.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    head: ChainHead,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            head: ChainHead::EMPTY,
        }
    }
}

impl ChainVerifier {
    pub fn feed(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        let expected = self.head.seq + 1;
        if r.seq > expected {
            return Err(ChainBreak {
                seq: expected,
                kind: BreakKind::Missing,
            });
        }
        if r.seq < expected {
            return Err(ChainBreak {
                seq: r.seq,
                kind: BreakKind::Unexpected,
            });
        }
        let recomputed = chain_hash(&self.head.hash, &r.event, r.seq);
        if r.prev_hash != self.head.hash {
            // A record written after the chain was cut (inserted) also fails here, but its
            // own hash may be self-consistent: name it as inserted rather than altered.
            let kind = if chain_hash(&r.prev_hash, &r.event, r.seq) == r.hash {
                BreakKind::Unexpected
            } else {
                BreakKind::BadLink
            };
            return Err(ChainBreak { seq: r.seq, kind });
        }
        if recomputed != r.hash {
            return Err(ChainBreak {
                seq: r.seq,
                kind: BreakKind::Altered,
            });
        }
        self.head = ChainHead {
            seq: r.seq,
            hash: r.hash,
        };
        Ok(())
    }

    /// Ends the walk; `expected` is a head kept outside the server, if any.
    pub fn finish(self, expected: Option<&ChainHead>) -> Result<ChainHead, ChainBreak> {
        if let Some(e) = expected {
            if e.seq > self.head.seq {
                return Err(ChainBreak {
                    seq: self.head.seq + 1,
                    kind: BreakKind::Truncated,
                });
            }
            if e.seq == self.head.seq && e.hash != self.head.hash {
                return Err(ChainBreak {
                    seq: e.seq,
                    kind: BreakKind::HeadMismatch,
                });
            }
        }
        Ok(self.head)
    }

    pub fn head(&self) -> ChainHead {
        self.head
    }
}

/// An expected head strictly inside the verified chain must match the record at that
/// sequence number; callers that stream look it up with this.
pub fn matches_head_at(record: &AuditRecord, expected: &ChainHead) -> bool {
    record.seq != expected.seq || record.hash == expected.hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut head = ChainHead::EMPTY;
        (1..=n)
            .map(|i| {
                let mut e = AuditEvent::new(
                    datetime!(2026-04-01 09:00 UTC) + time::Duration::seconds(i),
                    AuditAction::SignIn,
                    Outcome::Success,
                );
                e.target = Some(format!("user:{i}"));
                let r = AuditRecord::next(&head, e);
                head = ChainHead {
                    seq: r.seq,
                    hash: r.hash,
                };
                r
            })
            .collect()
    }

    fn verify(rs: &[AuditRecord]) -> Result<ChainHead, ChainBreak> {
        let mut v = ChainVerifier::default();
        for r in rs {
            v.feed(r)?;
        }
        v.finish(None)
    }

    #[test]
    fn a_run_chains_as_appends_one_at_a_time() {
        let one_by_one = chain(6);
        let events: Vec<AuditEvent> = one_by_one.iter().map(|r| r.event.clone()).collect();
        let head = ChainHead {
            seq: one_by_one[1].seq,
            hash: one_by_one[1].hash,
        };
        assert_eq!(chain_after(&ChainHead::EMPTY, &events), one_by_one);
        assert_eq!(chain_after(&head, &events[2..]), one_by_one[2..].to_vec());
        assert!(chain_after(&head, &[]).is_empty());
        assert_eq!(
            verify(&chain_after(&ChainHead::EMPTY, &events))
                .unwrap()
                .seq,
            6
        );
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let rs = chain(10);
        assert_eq!(verify(&rs).unwrap().seq, 10);
        assert_eq!(verify(&[]).unwrap(), ChainHead::EMPTY);
    }

    #[test]
    fn an_edit_is_named_by_its_sequence_number() {
        let mut rs = chain(10);
        rs[4].event.outcome = Outcome::Failure;
        assert_eq!(
            verify(&rs),
            Err(ChainBreak {
                seq: 5,
                kind: BreakKind::Altered
            })
        );
    }

    #[test]
    fn a_deletion_is_named_by_the_missing_number() {
        let mut rs = chain(10);
        rs.remove(6);
        assert_eq!(
            verify(&rs),
            Err(ChainBreak {
                seq: 7,
                kind: BreakKind::Missing
            })
        );
    }

    #[test]
    fn an_insertion_is_named() {
        let mut rs = chain(10);
        let mut fake = rs[9].clone();
        fake.seq = 11;
        fake.event.target = Some("user:forged".into());
        rs.push(fake);
        assert_eq!(verify(&rs).unwrap_err().seq, 11);
        // even when the forger chains it correctly, a kept head exposes the extra record
        let kept = ChainHead {
            seq: 10,
            hash: rs[9].hash,
        };
        let mut rs = chain(10);
        let forged = AuditRecord::next(&kept, rs[0].event.clone());
        rs.push(forged);
        let mut v = ChainVerifier::default();
        for r in &rs {
            v.feed(r).unwrap();
        }
        assert_eq!(v.finish(Some(&kept)).unwrap().seq, 11);
    }

    #[test]
    fn reordering_is_caught() {
        let mut rs = chain(10);
        rs.swap(2, 3);
        assert_eq!(
            verify(&rs),
            Err(ChainBreak {
                seq: 3,
                kind: BreakKind::Missing
            })
        );
    }

    #[test]
    fn truncation_is_caught_only_against_a_kept_head() {
        let rs = chain(10);
        let kept = ChainHead {
            seq: 10,
            hash: rs[9].hash,
        };
        let mut v = ChainVerifier::default();
        for r in &rs[..8] {
            v.feed(r).unwrap();
        }
        assert_eq!(
            v.finish(Some(&kept)),
            Err(ChainBreak {
                seq: 9,
                kind: BreakKind::Truncated
            })
        );
    }

    #[test]
    fn heads_round_trip_as_text() {
        let rs = chain(3);
        let h = ChainHead {
            seq: 3,
            hash: rs[2].hash,
        };
        assert_eq!(ChainHead::parse(&h.to_text()), Some(h));
        assert_eq!(ChainHead::parse("x:y"), None);
    }

    #[test]
    fn canonical_bytes_fix_key_order_and_time_precision() {
        let e = AuditEvent::new(
            datetime!(2026-04-01 09:00:00.123456789 UTC),
            AuditAction::Read,
            Outcome::Denied,
        );
        let s = String::from_utf8(e.canonical_bytes(7)).unwrap();
        assert!(
            s.starts_with(r#"{"seq":7,"at":"2026-04-01T09:00:00.123456Z","#),
            "{s}"
        );
    }
}

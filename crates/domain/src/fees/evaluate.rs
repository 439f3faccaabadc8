//! Evaluation of a patient's sessions at one clinic against the [`FeeSchedule`].

use serde::{Deserialize, Serialize};
use time::Date;

use super::rules::{
    DocumentKind, FeeSchedule, ListedDisease, Profession, RecipientRole, RevisionRules, TargetRule,
};

/// 入院 or 外来 on the day of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    Outpatient,
    Inpatient,
}

/// 対面 or 情報通信機器.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    FaceToFace,
    Online,
}

/// The patient's condition, described so that both revisions' target rules can be checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// A disease of 別表第三の一の二, if any (R6).
    #[serde(default)]
    pub listed_disease: Option<ListedDisease>,
    /// Needs repeated, continuing treatment to prevent worsening (R8).
    #[serde(default)]
    pub repeated_treatment: bool,
    /// Continuing to work needs consideration (R8).
    #[serde(default)]
    pub work_consideration_needed: bool,
}

/// The 勤務情報 document received and the information the doctor gave in return (通知(2)ア・ウ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InformationProvision {
    pub document: DocumentKind,
    /// Who at the workplace received the doctor's information.
    pub recipient: RecipientRole,
    /// Whether the workplace has appointed a 産業医.
    pub workplace_has_sangyoi: bool,
    /// Whether B009/B010 was billed for the same document (注4).
    #[serde(default)]
    pub b009_or_b010_billed: bool,
}

/// A staff member present at the 療養上の指導.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPresent {
    pub profession: Profession,
    /// 両立支援コーディネーター研修 completed.
    pub training_completed: bool,
    /// 専任.
    pub dedicated: bool,
}

/// Facility standards notified to the 地方厚生局長等.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityStandards {
    /// 注3 相談支援加算.
    #[serde(default)]
    pub consultation_support: bool,
    /// 注5 情報通信機器.
    #[serde(default)]
    pub online: bool,
}

/// 通知(6) exclusions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusions {
    /// The treating doctor is the 産業医 of the patient's workplace.
    #[serde(default)]
    pub physician_is_workplace_sangyoi: bool,
    /// The clinic and the patient's workplace have the same capital.
    #[serde(default)]
    pub same_capital: bool,
}

/// One visit at which 療養上の指導 was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub date: Date,
    pub setting: Setting,
    pub delivery: Delivery,
    pub condition: Condition,
    /// 「患者の求めを受けて、患者の同意を得て」.
    pub requested_with_consent: bool,
    /// Present when the doctor gave information to the workplace at this visit.
    #[serde(default)]
    pub information: Option<InformationProvision>,
    #[serde(default)]
    pub staff_present: Vec<StaffPresent>,
    #[serde(default)]
    pub facility: FacilityStandards,
    #[serde(default)]
    pub exclusions: Exclusions,
}

/// The sessions of one patient at one clinic (２回目以降 counts only a 初回 at the same clinic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeInput {
    pub sessions: Vec<Session>,
}

/// A billable item of B001-9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeItem {
    Initial,
    FollowUp,
    InitialOnline,
    FollowUpOnline,
    ConsultationSupport,
}

impl FeeItem {
    pub fn label(self) -> &'static str {
        match self {
            Self::Initial => "初回",
            Self::FollowUp => "２回目以降",
            Self::InitialOnline => "初回（情報通信機器）",
            Self::FollowUpOnline => "２回目以降（情報通信機器）",
            Self::ConsultationSupport => "相談支援加算",
        }
    }

    fn is_initial(self) -> bool {
        matches!(self, Self::Initial | Self::InitialOnline)
    }

    fn is_follow_up(self) -> bool {
        matches!(self, Self::FollowUp | Self::FollowUpOnline)
    }
}

/// One reason, in Japanese, starting with the rule it applies (e.g. 「R8 B001-9 注1：…」).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Whether the condition is met.
    pub met: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemVerdict {
    pub item: FeeItem,
    pub billable: bool,
    /// Points when billable, otherwise 0.
    pub points: u32,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionVerdict {
    /// Position of the session in [`FeeInput::sessions`].
    pub index: usize,
    pub date: Date,
    /// None when no revision covers the date.
    pub revision: Option<super::rules::Revision>,
    pub items: Vec<ItemVerdict>,
    pub total_points: u32,
}

impl SessionVerdict {
    pub fn item(&self, item: FeeItem) -> Option<&ItemVerdict> {
        self.items.iter().find(|v| v.item == item)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeEvaluation {
    /// In the order of the input.
    pub sessions: Vec<SessionVerdict>,
}

/// Months since year 0, so that month differences are plain subtraction.
fn month_index(d: Date) -> i64 {
    i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1
}

/// The latest 初回 billed and whether a ２回目以降 was billed in its month.
#[derive(Debug, Clone, Copy)]
struct InitialBilled {
    date: Date,
    follow_up_in_same_month: bool,
}

#[derive(Default)]
struct History {
    initial: Option<InitialBilled>,
    initial_months: Vec<i64>,
    follow_up_months: Vec<i64>,
}

impl History {
    /// Whether month `m` lies in the ２回目以降 window of the last 初回 (通知(3)): the window
    /// runs `months` months from the 初回 month if a ２回目以降 was billed in it, else from the next.
    fn in_window(&self, m: i64, months: u32) -> Option<bool> {
        let initial = self.initial?;
        let start = month_index(initial.date);
        if m == start {
            return Some(true);
        }
        let first = if initial.follow_up_in_same_month {
            start
        } else {
            start + 1
        };
        Some(m >= first && m < first + i64::from(months))
    }
}

struct Ctx<'a> {
    rules: &'a RevisionRules,
    session: &'a Session,
}

impl Ctx<'_> {
    fn reason(&self, met: bool, rule: &str, text: impl AsRef<str>) -> Reason {
        Reason {
            met,
            text: format!(
                "{} B001-9 {}：{}",
                self.rules.revision.code(),
                rule,
                text.as_ref()
            ),
        }
    }

    /// Conditions shared by 初回 and ２回目以降.
    fn common(&self) -> Vec<Reason> {
        let s = self.session;
        let mut out = Vec::new();
        out.push(match s.setting {
            Setting::Outpatient => {
                self.reason(true, "通知(2)", "入院中の患者以外の患者（外来）です。")
            }
            Setting::Inpatient => self.reason(
                false,
                "通知(2)",
                "入院中の患者は対象外です（入院中の患者以外の患者に限ります）。",
            ),
        });
        out.push(self.target());
        out.push(if s.requested_with_consent {
            self.reason(true, "注1", "患者の求めを受け、患者の同意を得ています。")
        } else {
            self.reason(false, "注1", "患者の求めと同意がないため算定できません。")
        });
        if s.exclusions.physician_is_workplace_sangyoi {
            out.push(self.reason(
                false,
                "通知(6)",
                "主治医が当該患者の勤務する事業場の産業医であるため算定できません。",
            ));
        }
        if s.exclusions.same_capital {
            out.push(self.reason(
                false,
                "通知(6)",
                "医療機関と患者の勤務する事業場が同一資本であるため算定できません。",
            ));
        }
        out
    }

    fn target(&self) -> Reason {
        let c = &self.session.condition;
        match &self.rules.target {
            TargetRule::ListedDiseases { diseases } => match c.listed_disease {
                Some(d) if diseases.contains(&d) => self.reason(
                    true,
                    "注1",
                    format!("{}は別表第三の一の二に掲げる疾患です。", d.label()),
                ),
                Some(d) => self.reason(
                    false,
                    "注1",
                    format!("{}はこの改定の対象疾患に含まれていません。", d.label()),
                ),
                None => self.reason(
                    false,
                    "注1",
                    "別表第三の一の二に掲げる疾患（悪性新生物、脳血管疾患、肝疾患、心疾患、糖尿病、若年性認知症、指定難病等）の患者ではありません。",
                ),
            },
            TargetRule::RepeatedTreatmentWithWorkConsideration => {
                if c.repeated_treatment && c.work_consideration_needed {
                    self.reason(
                        true,
                        "注1",
                        "疾患の増悪防止等のため反復継続した治療が必要で、就業の継続に配慮が必要な患者です。",
                    )
                } else if !c.repeated_treatment {
                    self.reason(
                        false,
                        "注1",
                        "疾患の増悪防止等のための反復継続した治療が必要な患者ではありません。",
                    )
                } else {
                    self.reason(
                        false,
                        "注1",
                        "就業の継続に配慮が必要な患者ではありません。",
                    )
                }
            }
        }
    }

    /// 初回: the document and who received the information.
    fn provision(&self) -> Vec<Reason> {
        let Some(info) = &self.session.information else {
            return vec![self.reason(
                false,
                "通知(2)ウ",
                "この受診では産業医等への情報提供を行っていません。",
            )];
        };
        let mut out = Vec::new();
        out.push(if self.rules.accepted_documents.contains(&info.document) {
            self.reason(
                true,
                "通知(2)ア",
                format!(
                    "勤務情報を記載した文書（{}）を受け取っています。",
                    info.document.label()
                ),
            )
        } else {
            let accepted: Vec<&str> = self
                .rules
                .accepted_documents
                .iter()
                .map(|d| d.label())
                .collect();
            self.reason(
                false,
                "通知(2)ア",
                format!(
                    "受け取った文書（{}）は要件を満たしません。必要な文書：{}。",
                    info.document.label(),
                    accepted.join("、または")
                ),
            )
        });
        out.push(if self.rules.recipients.contains(&info.recipient) {
            self.reason(
                true,
                "注1",
                format!("情報提供先の{}は産業医等に当たります。", info.recipient.label()),
            )
        } else {
            self.reason(
                false,
                "注1",
                format!(
                    "情報提供先の{}は産業医等（産業医、総括安全衛生管理者、衛生管理者、安全衛生推進者・衛生推進者、保健師）に当たりません。",
                    info.recipient.label()
                ),
            )
        });
        if info.workplace_has_sangyoi {
            out.push(if info.recipient == RecipientRole::Sangyoi {
                self.reason(
                    true,
                    "通知(2)ウ",
                    "産業医が選任されている事業場で、産業医に情報提供しています。",
                )
            } else {
                self.reason(
                    false,
                    "通知(2)ウ",
                    format!(
                        "産業医が選任されている事業場では産業医に情報提供する必要があります（提供先：{}）。",
                        info.recipient.label()
                    ),
                )
            });
        }
        if info.b009_or_b010_billed {
            out.push(self.reason(
                false,
                "注4",
                "同じ文書について診療情報提供料（Ⅰ）（Ⅱ）を算定しているため算定できません。",
            ));
        }
        out
    }

    fn support(&self, base_billed: bool) -> Vec<Reason> {
        let s = self.session;
        let mut out = Vec::new();
        out.push(if base_billed {
            self.reason(
                true,
                "注3",
                "所定点数（初回または２回目以降）を算定しています。",
            )
        } else {
            self.reason(
                false,
                "注3",
                "所定点数（初回または２回目以降）を算定できないため加算できません。",
            )
        });
        out.push(if s.facility.consultation_support {
            self.reason(true, "注3", "相談支援加算の施設基準を届け出ています。")
        } else {
            self.reason(false, "注3", "相談支援加算の施設基準を届け出ていません。")
        });
        let rules = self.rules;
        let qualified = s.staff_present.iter().any(|p| {
            p.dedicated
                && rules.support_professions.contains(&p.profession)
                && (p.training_completed || !rules.support_training_required)
        });
        out.push(if qualified {
            self.reason(
                true,
                "注3",
                "要件を満たす専任の職員が同席して相談支援を行っています。",
            )
        } else {
            let need = if rules.support_training_required {
                "両立支援コーディネーター研修を修了した専任の看護師、社会福祉士、精神保健福祉士または公認心理師"
            } else {
                "専任の看護師、社会福祉士、精神保健福祉士または公認心理師"
            };
            self.reason(false, "注3", format!("{need}が同席していません。"))
        });
        out
    }
}

fn verdict(item: FeeItem, points: u32, reasons: Vec<Reason>) -> ItemVerdict {
    let billable = reasons.iter().all(|r| r.met);
    ItemVerdict {
        item,
        billable,
        points: if billable { points } else { 0 },
        reasons,
    }
}

/// Evaluates every session. Sessions are taken in date order (ties in input order) because the
/// monthly limit and the ２回目以降 window depend on what was billed before.
pub fn evaluate(schedule: &FeeSchedule, input: &FeeInput) -> FeeEvaluation {
    let mut order: Vec<usize> = (0..input.sessions.len()).collect();
    order.sort_by_key(|&i| input.sessions.get(i).map(|s| s.date));
    let mut history = History::default();
    let mut out: Vec<Option<SessionVerdict>> = vec![None; input.sessions.len()];
    for i in order {
        let Some(session) = input.sessions.get(i) else {
            continue;
        };
        let verdict = evaluate_session(schedule, session, i, &mut history);
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(verdict);
        }
    }
    FeeEvaluation {
        sessions: out.into_iter().flatten().collect(),
    }
}

fn evaluate_session(
    schedule: &FeeSchedule,
    session: &Session,
    index: usize,
    history: &mut History,
) -> SessionVerdict {
    let Some(rules) = schedule.rules_on(session.date) else {
        let reason = Reason {
            met: false,
            text: "B001-9：この日付に適用される改定の規定が登録されていません。".to_owned(),
        };
        let items = [
            FeeItem::Initial,
            FeeItem::FollowUp,
            FeeItem::InitialOnline,
            FeeItem::FollowUpOnline,
            FeeItem::ConsultationSupport,
        ]
        .into_iter()
        .map(|item| verdict(item, 0, vec![reason.clone()]))
        .collect();
        return SessionVerdict {
            index,
            date: session.date,
            revision: None,
            items,
            total_points: 0,
        };
    };
    let ctx = Ctx { rules, session };
    let month = month_index(session.date);
    let common = ctx.common();

    // 初回
    let mut initial = common.clone();
    initial.extend(ctx.provision());
    initial.push(if history.initial_months.contains(&month) {
        ctx.reason(
            false,
            "通知(2)",
            "同じ月に既に算定しています（月１回に限ります）。",
        )
    } else {
        ctx.reason(true, "通知(2)", "この月にはまだ算定していません。")
    });
    if history.in_window(month, rules.follow_up_months) == Some(true)
        && !history.initial_months.contains(&month)
    {
        initial.push(ctx.reason(
            false,
            "注2",
            "前回の初回から２回目以降を算定できる期間中のため、初回ではなく２回目以降として扱います。",
        ));
    }

    // ２回目以降
    let mut follow = common;
    match history.initial {
        Some(first) if first.date < session.date => {
            follow.push(ctx.reason(
                true,
                "注2",
                format!("{}に初回を算定しています。", first.date),
            ));
            follow.push(
                if history.in_window(month, rules.follow_up_months) == Some(true) {
                    ctx.reason(
                        true,
                        "通知(3)",
                        format!("初回の算定月またはその翌月から{}月以内です。", rules.follow_up_months),
                    )
                } else {
                    ctx.reason(
                        false,
                        "通知(3)",
                        format!(
                            "初回の算定月またはその翌月から起算して{}月を超えています（{}の初回）。",
                            rules.follow_up_months, first.date
                        ),
                    )
                },
            );
        }
        Some(_) => follow.push(ctx.reason(
            false,
            "注2",
            "初回を算定した受診より後の受診ではありません。",
        )),
        None => follow.push(ctx.reason(
            false,
            "注2",
            "当該医療機関で初回を算定していないため算定できません。",
        )),
    }
    follow.push(if history.follow_up_months.contains(&month) {
        ctx.reason(
            false,
            "通知(3)",
            "同じ月に既に２回目以降を算定しています（月１回に限ります）。",
        )
    } else {
        ctx.reason(
            true,
            "通知(3)",
            "この月にはまだ２回目以降を算定していません。",
        )
    });

    // 注5: the online variants replace the face-to-face points.
    let online = session.delivery == Delivery::Online;
    let (face, remote) = if online {
        let no_face = ctx.reason(
            false,
            "注5",
            "情報通信機器を用いた指導のため、注5の点数で算定します。",
        );
        let standard = if session.facility.online {
            ctx.reason(
                true,
                "注5",
                "情報通信機器を用いた診療の施設基準を届け出ています。",
            )
        } else {
            ctx.reason(
                false,
                "注5",
                "情報通信機器を用いた診療の施設基準を届け出ていないため算定できません。",
            )
        };
        (no_face, standard)
    } else {
        (
            ctx.reason(true, "注1", "対面で指導しています。"),
            ctx.reason(
                false,
                "注5",
                "対面での指導のため、情報通信機器を用いた場合の点数は該当しません。",
            ),
        )
    };
    let with = |mut r: Vec<Reason>, extra: &Reason| {
        r.push(extra.clone());
        r
    };
    let p = rules.points;
    let mut items = vec![
        verdict(FeeItem::Initial, p.initial, with(initial.clone(), &face)),
        verdict(FeeItem::FollowUp, p.follow_up, with(follow.clone(), &face)),
        verdict(
            FeeItem::InitialOnline,
            p.initial_online,
            with(initial, &remote),
        ),
        verdict(
            FeeItem::FollowUpOnline,
            p.follow_up_online,
            with(follow, &remote),
        ),
    ];
    let initial_billed = items.iter().any(|v| v.billable && v.item.is_initial());
    let follow_billed = items.iter().any(|v| v.billable && v.item.is_follow_up());
    items.push(verdict(
        FeeItem::ConsultationSupport,
        p.consultation_support,
        ctx.support(initial_billed || follow_billed),
    ));

    if initial_billed {
        history.initial = Some(InitialBilled {
            date: session.date,
            follow_up_in_same_month: false,
        });
        history.initial_months.push(month);
    }
    if follow_billed {
        history.follow_up_months.push(month);
        if let Some(first) = history.initial.as_mut()
            && month_index(first.date) == month
        {
            first.follow_up_in_same_month = true;
        }
    }
    let total_points = items.iter().map(|v| v.points).sum();
    SessionVerdict {
        index,
        date: session.date,
        revision: Some(rules.revision),
        items,
        total_points,
    }
}

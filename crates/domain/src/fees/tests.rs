//! Worked examples for B001-9 across R6 and R8, and a property test of the monthly limit.

use proptest::prelude::*;
use time::Date;
use time::macros::date;

use super::*;

fn base(day: Date) -> Session {
    Session {
        date: day,
        setting: Setting::Outpatient,
        delivery: Delivery::FaceToFace,
        condition: Condition {
            listed_disease: Some(ListedDisease::MalignantNeoplasm),
            repeated_treatment: true,
            work_consideration_needed: true,
        },
        requested_with_consent: true,
        information: Some(InformationProvision {
            document: DocumentKind::JointlyPrepared,
            recipient: RecipientRole::Sangyoi,
            workplace_has_sangyoi: true,
            b009_or_b010_billed: false,
        }),
        staff_present: Vec::new(),
        facility: FacilityStandards::default(),
        exclusions: Exclusions::default(),
    }
}

/// A later visit without new information to the workplace.
fn visit(day: Date) -> Session {
    Session {
        information: None,
        ..base(day)
    }
}

fn with(mut s: Session, f: impl FnOnce(&mut Session)) -> Session {
    f(&mut s);
    s
}

fn to(recipient: RecipientRole, has_sangyoi: bool) -> impl FnOnce(&mut Session) {
    move |s| {
        if let Some(i) = s.information.as_mut() {
            i.recipient = recipient;
            i.workplace_has_sangyoi = has_sangyoi;
        }
    }
}

fn doc(kind: DocumentKind) -> impl FnOnce(&mut Session) {
    move |s| {
        if let Some(i) = s.information.as_mut() {
            i.document = kind;
        }
    }
}

fn disease(
    d: Option<ListedDisease>,
    repeated: bool,
    consideration: bool,
) -> impl FnOnce(&mut Session) {
    move |s| {
        s.condition = Condition {
            listed_disease: d,
            repeated_treatment: repeated,
            work_consideration_needed: consideration,
        }
    }
}

fn staff(
    profession: Profession,
    trained: bool,
    dedicated: bool,
    notified: bool,
) -> impl FnOnce(&mut Session) {
    move |s| {
        s.staff_present = vec![StaffPresent {
            profession,
            training_completed: trained,
            dedicated,
        }];
        s.facility.consultation_support = notified;
    }
}

fn support(s: &mut Session) {
    staff(Profession::Nurse, true, true, true)(s)
}

fn online(notified: bool) -> impl FnOnce(&mut Session) {
    move |s| {
        s.delivery = Delivery::Online;
        s.facility.online = notified;
    }
}

use FeeItem::{FollowUp as F, FollowUpOnline as FO, Initial as I, InitialOnline as IO};

struct Case {
    desc: &'static str,
    sessions: Vec<Session>,
    /// Per session: the base item billed (if any) and the total points.
    expect: Vec<(Option<FeeItem>, u32)>,
    /// Text that must appear in some reason (e.g. the rule that refused it).
    cite: Option<&'static str>,
}

fn case(
    desc: &'static str,
    sessions: Vec<Session>,
    expect: Vec<(Option<FeeItem>, u32)>,
    cite: Option<&'static str>,
) -> Case {
    Case {
        desc,
        sessions,
        expect,
        cite,
    }
}

fn r6_cases() -> Vec<Case> {
    use RecipientRole::*;
    vec![
        case(
            "R6 がん患者、共同作成の勤務情報提供書、産業医へ情報提供：初回800点",
            vec![base(date!(2025 - 04 - 10))],
            vec![(Some(I), 800)],
            Some("R6 B001-9 通知(2)ア"),
        ),
        case(
            "R6 初回に研修修了の専任看護師が同席し相談支援：800＋50点",
            vec![with(base(date!(2025 - 04 - 10)), support)],
            vec![(Some(I), 850)],
            Some("R6 B001-9 注3"),
        ),
        case(
            "R6 入院中の患者：算定不可",
            vec![with(base(date!(2025 - 04 - 10)), |s| {
                s.setting = Setting::Inpatient
            })],
            vec![(None, 0)],
            Some("R6 B001-9 通知(2)：入院中の患者は対象外"),
        ),
        case(
            "R6 産業医のいない事業場で人事労務担当者へ情報提供：産業医等ではないため算定不可",
            vec![with(base(date!(2025 - 04 - 10)), to(HrStaff, false))],
            vec![(None, 0)],
            Some("人事労務担当者は産業医等"),
        ),
        case(
            "R6 産業医のいない事業場で衛生管理者へ情報提供：800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                to(HealthSupervisor, false),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 産業医のいる事業場で衛生管理者へ情報提供：産業医に提供していないため算定不可",
            vec![with(
                base(date!(2025 - 04 - 10)),
                to(HealthSupervisor, true),
            )],
            vec![(None, 0)],
            Some("R6 B001-9 通知(2)ウ：産業医が選任されている事業場では"),
        ),
        case(
            "R6 産業医のいない事業場で保健師へ情報提供：800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                to(PublicHealthNurse, false),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 産業医のいない事業場で衛生推進者へ情報提供：800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                to(SafetyHealthPromoter, false),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 産業医のいない事業場で総括安全衛生管理者へ情報提供：800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                to(GeneralSafetyHealthManager, false),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 所属長へ情報提供：産業医等ではないため算定不可",
            vec![with(base(date!(2025 - 04 - 10)), to(Other, false))],
            vec![(None, 0)],
            Some("R6 B001-9 注1"),
        ),
        case(
            "R6 本人が作成し事業者が確認した両立支援カード：R6では共同作成が必要なため算定不可",
            vec![with(
                base(date!(2025 - 04 - 10)),
                doc(DocumentKind::WorkerWrittenEmployerChecked),
            )],
            vec![(None, 0)],
            Some("R6 B001-9 通知(2)ア：受け取った文書"),
        ),
        case(
            "R6 対象疾患ではないが反復継続した治療が必要な患者：R6の対象外",
            vec![with(base(date!(2025 - 04 - 10)), disease(None, true, true))],
            vec![(None, 0)],
            Some("別表第三の一の二に掲げる疾患"),
        ),
        case(
            "R6 指定難病の患者：800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                disease(Some(ListedDisease::DesignatedIntractable), false, false),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 指定難病に準ずる疾患の患者：800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                disease(Some(ListedDisease::EquivalentToIntractable), false, false),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 若年性認知症の患者：800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                disease(Some(ListedDisease::EarlyOnsetDementia), true, true),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 患者の同意がない：算定不可",
            vec![with(base(date!(2025 - 04 - 10)), |s| {
                s.requested_with_consent = false
            })],
            vec![(None, 0)],
            Some("求めと同意がない"),
        ),
        case(
            "R6 主治医が事業場の産業医：算定不可",
            vec![with(base(date!(2025 - 04 - 10)), |s| {
                s.exclusions.physician_is_workplace_sangyoi = true
            })],
            vec![(None, 0)],
            Some("R6 B001-9 通知(6)"),
        ),
        case(
            "R6 医療機関と事業場が同一資本：算定不可",
            vec![with(base(date!(2025 - 04 - 10)), |s| {
                s.exclusions.same_capital = true
            })],
            vec![(None, 0)],
            Some("同一資本"),
        ),
        case(
            "R6 同じ文書で診療情報提供料を算定済み：算定不可",
            vec![with(base(date!(2025 - 04 - 10)), |s| {
                if let Some(i) = s.information.as_mut() {
                    i.b009_or_b010_billed = true
                }
            })],
            vec![(None, 0)],
            Some("R6 B001-9 注4"),
        ),
        case(
            "R6 情報通信機器、施設基準届出あり：初回696点",
            vec![with(base(date!(2025 - 04 - 10)), online(true))],
            vec![(Some(IO), 696)],
            Some("R6 B001-9 注5"),
        ),
        case(
            "R6 情報通信機器、施設基準届出なし：算定不可",
            vec![with(base(date!(2025 - 04 - 10)), online(false))],
            vec![(None, 0)],
            Some("施設基準を届け出ていないため"),
        ),
        case(
            "R6 情報通信機器で相談支援加算あり：696＋50点",
            vec![with(
                with(base(date!(2025 - 04 - 10)), online(true)),
                support,
            )],
            vec![(Some(IO), 746)],
            None,
        ),
        case(
            "R6 同席した看護師が専任でない：加算なし800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                staff(Profession::Nurse, true, false, true),
            )],
            vec![(Some(I), 800)],
            Some("専任の看護師"),
        ),
        case(
            "R6 同席した社会福祉士が研修未修了：加算なし800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                staff(Profession::SocialWorker, false, true, true),
            )],
            vec![(Some(I), 800)],
            Some("研修を修了した"),
        ),
        case(
            "R6 同席者が対象職種以外：加算なし800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                staff(Profession::Other, true, true, true),
            )],
            vec![(Some(I), 800)],
            None,
        ),
        case(
            "R6 公認心理師が同席したが加算の施設基準未届出：加算なし800点",
            vec![with(
                base(date!(2025 - 04 - 10)),
                staff(Profession::CertifiedPsychologist, true, true, false),
            )],
            vec![(Some(I), 800)],
            Some("相談支援加算の施設基準を届け出ていません"),
        ),
        case(
            "R6 初回と同月に２回目以降を算定すると期間は初回の月から3月（4〜6月）",
            vec![
                base(date!(2025 - 04 - 01)),
                visit(date!(2025 - 04 - 20)),
                visit(date!(2025 - 06 - 30)),
                visit(date!(2025 - 07 - 01)),
            ],
            vec![(Some(I), 800), (Some(F), 400), (Some(F), 400), (None, 0)],
            Some("起算して3月を超えています"),
        ),
        case(
            "R6 初回の月に２回目以降がなければ翌月から3月（5〜7月）、8月は算定不可",
            vec![
                base(date!(2025 - 04 - 30)),
                visit(date!(2025 - 05 - 01)),
                visit(date!(2025 - 06 - 15)),
                visit(date!(2025 - 07 - 31)),
                visit(date!(2025 - 08 - 01)),
            ],
            vec![
                (Some(I), 800),
                (Some(F), 400),
                (Some(F), 400),
                (Some(F), 400),
                (None, 0),
            ],
            None,
        ),
        case(
            "R6 同じ月に２回目以降を2回：2回目は月1回の制限で算定不可",
            vec![
                base(date!(2025 - 04 - 10)),
                visit(date!(2025 - 05 - 08)),
                visit(date!(2025 - 05 - 22)),
            ],
            vec![(Some(I), 800), (Some(F), 400), (None, 0)],
            Some("月１回に限ります"),
        ),
        case(
            "R6 同じ月に情報提供を2回：初回は月1回のため、2回目は２回目以降400点",
            vec![base(date!(2025 - 04 - 03)), base(date!(2025 - 04 - 24))],
            vec![(Some(I), 800), (Some(F), 400)],
            Some("同じ月に既に算定しています"),
        ),
        case(
            "R6 初回を算定していない患者の受診：２回目以降は算定不可",
            vec![visit(date!(2025 - 04 - 10))],
            vec![(None, 0)],
            Some("初回を算定していない"),
        ),
        case(
            "R6 初回が人事労務担当者宛てで算定不可だった場合、翌月の受診も２回目以降は算定不可",
            vec![
                with(base(date!(2025 - 04 - 10)), to(HrStaff, false)),
                visit(date!(2025 - 05 - 10)),
            ],
            vec![(None, 0), (None, 0)],
            Some("初回を算定していない"),
        ),
        case(
            "R6 ２回目以降を情報通信機器で（届出あり）：348点",
            vec![
                base(date!(2025 - 04 - 10)),
                with(visit(date!(2025 - 05 - 10)), online(true)),
            ],
            vec![(Some(I), 800), (Some(FO), 348)],
            None,
        ),
        case(
            "R6 ２回目以降に相談支援加算：400＋50点",
            vec![
                base(date!(2025 - 04 - 10)),
                with(visit(date!(2025 - 05 - 10)), support),
            ],
            vec![(Some(I), 800), (Some(F), 450)],
            None,
        ),
        case(
            "R6 ２回目以降の受診時に入院中：算定不可",
            vec![
                base(date!(2025 - 04 - 10)),
                with(visit(date!(2025 - 05 - 10)), |s| {
                    s.setting = Setting::Inpatient
                }),
            ],
            vec![(Some(I), 800), (None, 0)],
            None,
        ),
        case(
            "R6 期間終了後に新たな勤務情報提供書で情報提供：改めて初回800点",
            vec![base(date!(2025 - 04 - 10)), base(date!(2025 - 08 - 05))],
            vec![(Some(I), 800), (Some(I), 800)],
            None,
        ),
        case(
            "R6 期間中に再度情報提供：初回ではなく２回目以降400点",
            vec![base(date!(2025 - 04 - 10)), base(date!(2025 - 06 - 05))],
            vec![(Some(I), 800), (Some(F), 400)],
            Some("２回目以降として扱います"),
        ),
        case(
            "R6 年をまたぐ期間：11月の初回から12月・1月・2月は算定、3月は不可",
            vec![
                base(date!(2025 - 11 - 20)),
                visit(date!(2025 - 12 - 20)),
                visit(date!(2026 - 01 - 20)),
                visit(date!(2026 - 02 - 20)),
                visit(date!(2026 - 03 - 02)),
            ],
            vec![
                (Some(I), 800),
                (Some(F), 400),
                (Some(F), 400),
                (Some(F), 400),
                (None, 0),
            ],
            None,
        ),
    ]
}

fn r8_cases() -> Vec<Case> {
    use RecipientRole::*;
    vec![
        case(
            "改定施行前日（2026-05-31）の初回：R6の800点",
            vec![base(date!(2026 - 05 - 31))],
            vec![(Some(I), 800)],
            Some("R6 B001-9"),
        ),
        case(
            "改定施行日（2026-06-01）の初回：R8の850点",
            vec![base(date!(2026 - 06 - 01))],
            vec![(Some(I), 850)],
            Some("R8 B001-9"),
        ),
        case(
            "R6施行前（2024-05-31）：登録された改定がなく算定不可",
            vec![base(date!(2024 - 05 - 31))],
            vec![(None, 0)],
            Some("改定の規定が登録されていません"),
        ),
        case(
            "R8 本人が作成し事業者が確認した両立支援カード：850点",
            vec![with(
                base(date!(2026 - 07 - 01)),
                doc(DocumentKind::WorkerWrittenEmployerChecked),
            )],
            vec![(Some(I), 850)],
            None,
        ),
        case(
            "R8 本人のみが作成した文書：算定不可",
            vec![with(base(date!(2026 - 07 - 01)), doc(DocumentKind::Other))],
            vec![(None, 0)],
            Some("R8 B001-9 通知(2)ア"),
        ),
        case(
            "R8 対象疾患の一覧にないが反復継続した治療と就業上の配慮が必要：850点",
            vec![with(base(date!(2026 - 07 - 01)), disease(None, true, true))],
            vec![(Some(I), 850)],
            None,
        ),
        case(
            "R8 反復継続した治療は必要だが就業上の配慮は不要：算定不可",
            vec![with(
                base(date!(2026 - 07 - 01)),
                disease(Some(ListedDisease::Diabetes), true, false),
            )],
            vec![(None, 0)],
            Some("就業の継続に配慮が必要な患者ではありません"),
        ),
        case(
            "R8 がんでも反復継続した治療が不要：算定不可",
            vec![with(
                base(date!(2026 - 07 - 01)),
                disease(Some(ListedDisease::MalignantNeoplasm), false, true),
            )],
            vec![(None, 0)],
            Some("R8 B001-9 注1"),
        ),
        case(
            "R8 入院中の患者：算定不可",
            vec![with(base(date!(2026 - 07 - 01)), |s| {
                s.setting = Setting::Inpatient
            })],
            vec![(None, 0)],
            Some("R8 B001-9 通知(2)"),
        ),
        case(
            "R8 人事労務担当者へ情報提供：産業医等ではないため算定不可",
            vec![with(base(date!(2026 - 07 - 01)), to(HrStaff, false))],
            vec![(None, 0)],
            Some("産業医等（産業医"),
        ),
        case(
            "R8 産業医のいる事業場で保健師へ情報提供：算定不可",
            vec![with(
                base(date!(2026 - 07 - 01)),
                to(PublicHealthNurse, true),
            )],
            vec![(None, 0)],
            Some("R8 B001-9 通知(2)ウ"),
        ),
        case(
            "R8 同一資本：算定不可",
            vec![with(base(date!(2026 - 07 - 01)), |s| {
                s.exclusions.same_capital = true
            })],
            vec![(None, 0)],
            Some("R8 B001-9 通知(6)"),
        ),
        case(
            "R8 主治医が事業場の産業医：算定不可",
            vec![with(base(date!(2026 - 07 - 01)), |s| {
                s.exclusions.physician_is_workplace_sangyoi = true
            })],
            vec![(None, 0)],
            None,
        ),
        case(
            "R8 初回に相談支援加算：850＋400点",
            vec![with(base(date!(2026 - 07 - 01)), support)],
            vec![(Some(I), 1250)],
            None,
        ),
        case(
            "R8 情報通信機器の初回740点、２回目以降435点",
            vec![
                with(base(date!(2026 - 07 - 01)), online(true)),
                with(visit(date!(2026 - 08 - 01)), online(true)),
            ],
            vec![(Some(IO), 740), (Some(FO), 435)],
            None,
        ),
        case(
            "R8 初回の月に２回目以降なし：翌月から6月（8〜1月）、2月は算定不可",
            vec![
                base(date!(2026 - 07 - 15)),
                visit(date!(2026 - 08 - 03)),
                visit(date!(2026 - 10 - 03)),
                visit(date!(2027 - 01 - 31)),
                visit(date!(2027 - 02 - 01)),
            ],
            vec![
                (Some(I), 850),
                (Some(F), 500),
                (Some(F), 500),
                (Some(F), 500),
                (None, 0),
            ],
            Some("起算して6月を超えています"),
        ),
        case(
            "R8 初回と同月に２回目以降：初回の月から6月（7〜12月）、1月は算定不可",
            vec![
                base(date!(2026 - 07 - 01)),
                visit(date!(2026 - 07 - 20)),
                visit(date!(2026 - 12 - 31)),
                visit(date!(2027 - 01 - 04)),
            ],
            vec![(Some(I), 850), (Some(F), 500), (Some(F), 500), (None, 0)],
            None,
        ),
        case(
            "R8 同じ日の初回と２回目以降：２回目以降は初回より後の受診でないため算定不可",
            vec![base(date!(2026 - 07 - 01)), visit(date!(2026 - 07 - 01))],
            vec![(Some(I), 850), (None, 0)],
            Some("初回を算定した受診より後の受診ではありません"),
        ),
        case(
            "R6の初回（4月）から改定後の9月：R8の期間6月と点数500点を適用",
            vec![base(date!(2026 - 04 - 10)), visit(date!(2026 - 09 - 10))],
            vec![(Some(I), 800), (Some(F), 500)],
            Some("R8 B001-9 注2"),
        ),
        case(
            "入力順が日付順でなくても日付順に評価する",
            vec![visit(date!(2026 - 08 - 10)), base(date!(2026 - 07 - 10))],
            vec![(Some(F), 500), (Some(I), 850)],
            None,
        ),
    ]
}

fn base_item(v: &SessionVerdict) -> Option<FeeItem> {
    v.items
        .iter()
        .find(|i| i.billable && i.item != FeeItem::ConsultationSupport)
        .map(|i| i.item)
}

#[test]
fn worked_examples() {
    let schedule = FeeSchedule::standard();
    let cases: Vec<Case> = r6_cases().into_iter().chain(r8_cases()).collect();
    assert!(cases.len() >= 40, "only {} examples", cases.len());
    for c in cases {
        let input = FeeInput {
            sessions: c.sessions,
        };
        let out = evaluate(&schedule, &input);
        let got: Vec<(Option<FeeItem>, u32)> = out
            .sessions
            .iter()
            .map(|v| (base_item(v), v.total_points))
            .collect();
        assert_eq!(got, c.expect, "{}\n{out:#?}", c.desc);
        if let Some(cite) = c.cite {
            let found = out
                .sessions
                .iter()
                .flat_map(|v| &v.items)
                .flat_map(|i| &i.reasons)
                .any(|r| r.text.contains(cite));
            assert!(found, "{}: no reason mentions {cite}\n{out:#?}", c.desc);
        }
        for v in &out.sessions {
            for i in &v.items {
                assert!(
                    !i.reasons.is_empty(),
                    "{}: {:?} has no reason",
                    c.desc,
                    i.item
                );
                assert_eq!(i.billable, i.reasons.iter().all(|r| r.met), "{}", c.desc);
            }
        }
    }
}

#[test]
fn refused_items_say_which_rule_failed() {
    let out = evaluate(
        &FeeSchedule::standard(),
        &FeeInput {
            sessions: vec![with(base(date!(2026 - 07 - 01)), |s| {
                s.setting = Setting::Inpatient
            })],
        },
    );
    let initial = out.sessions[0].item(FeeItem::Initial).cloned();
    let initial = initial.expect("initial verdict");
    assert!(!initial.billable);
    let failed: Vec<&str> = initial
        .reasons
        .iter()
        .filter(|r| !r.met)
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(
        failed,
        vec!["R8 B001-9 通知(2)：入院中の患者は対象外です（入院中の患者以外の患者に限ります）。"]
    );
}

#[test]
fn a_site_can_override_uncertain_values() {
    let mut json = serde_json::to_value(FeeSchedule::standard()).expect("serialise");
    json["revisions"][1]["points"]["consultation_support"] = 50.into();
    json["revisions"][1]["effective_from"] = "2026-04-01".into();
    json["revisions"][1]["support_training_required"] = false.into();
    let schedule: FeeSchedule = serde_json::from_value(json).expect("deserialise");
    let s = with(
        base(date!(2026 - 04 - 01)),
        staff(Profession::Nurse, false, true, true),
    );
    let out = evaluate(&schedule, &FeeInput { sessions: vec![s] });
    assert_eq!(out.sessions[0].revision, Some(Revision::R8));
    assert_eq!(out.sessions[0].total_points, 850 + 50);
}

#[test]
fn input_and_output_round_trip_as_json() {
    let input = FeeInput {
        sessions: vec![
            with(base(date!(2026 - 07 - 01)), support),
            visit(date!(2026 - 08 - 01)),
        ],
    };
    let text = serde_json::to_string(&input).expect("serialise");
    assert!(text.contains("\"date\":\"2026-07-01\""), "{text}");
    let back: FeeInput = serde_json::from_str(&text).expect("deserialise");
    assert_eq!(back, input);
    let out = evaluate(&FeeSchedule::standard(), &input);
    let out_text = serde_json::to_string(&out).expect("serialise");
    let out_back: FeeEvaluation = serde_json::from_str(&out_text).expect("deserialise");
    assert_eq!(out_back, out);
}

fn arb_session() -> impl Strategy<Value = Session> {
    let first = date!(2024 - 01 - 01).to_julian_day();
    (
        (
            0..1500i32,
            any::<bool>(),
            any::<bool>(),
            0..9usize,
            any::<bool>(),
            any::<bool>(),
        ),
        (
            any::<bool>(),
            0..3usize,
            0..7usize,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (0..5usize, any::<[bool; 7]>()),
    )
        .prop_map(move |(a, b, c)| {
            let (day, inpatient, remote, dis, repeated, consideration) = a;
            let (consent, doc_kind, recipient, informs, has_sangyoi, b009) = b;
            let (prof, flags) = c;
            let date = Date::from_julian_day(first + day).unwrap_or(date!(2025 - 01 - 01));
            let documents = [
                DocumentKind::JointlyPrepared,
                DocumentKind::WorkerWrittenEmployerChecked,
                DocumentKind::Other,
            ];
            let recipients = [
                RecipientRole::Sangyoi,
                RecipientRole::GeneralSafetyHealthManager,
                RecipientRole::HealthSupervisor,
                RecipientRole::SafetyHealthPromoter,
                RecipientRole::PublicHealthNurse,
                RecipientRole::HrStaff,
                RecipientRole::Other,
            ];
            let professions = [
                Profession::Nurse,
                Profession::SocialWorker,
                Profession::MentalHealthSocialWorker,
                Profession::CertifiedPsychologist,
                Profession::Other,
            ];
            Session {
                date,
                setting: if inpatient {
                    Setting::Inpatient
                } else {
                    Setting::Outpatient
                },
                delivery: if remote {
                    Delivery::Online
                } else {
                    Delivery::FaceToFace
                },
                condition: Condition {
                    listed_disease: ListedDisease::ALL.get(dis).copied(),
                    repeated_treatment: repeated,
                    work_consideration_needed: consideration,
                },
                requested_with_consent: consent,
                information: informs.then(|| InformationProvision {
                    document: documents[doc_kind],
                    recipient: recipients[recipient],
                    workplace_has_sangyoi: has_sangyoi,
                    b009_or_b010_billed: b009,
                }),
                staff_present: vec![StaffPresent {
                    profession: professions[prof],
                    training_completed: flags[0],
                    dedicated: flags[1],
                }],
                facility: FacilityStandards {
                    consultation_support: flags[2],
                    online: flags[3],
                },
                exclusions: Exclusions {
                    physician_is_workplace_sangyoi: flags[4] && flags[5],
                    same_capital: flags[5] && flags[6],
                },
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_bills_an_item_twice_in_a_month(sessions in prop::collection::vec(arb_session(), 0..25)) {
        let input = FeeInput { sessions };
        let out = evaluate(&FeeSchedule::standard(), &input);
        prop_assert_eq!(out.sessions.len(), input.sessions.len());
        let mut initial_months = std::collections::BTreeMap::<(i32, u8), u32>::new();
        let mut follow_months = std::collections::BTreeMap::<(i32, u8), u32>::new();
        for (i, v) in out.sessions.iter().enumerate() {
            prop_assert_eq!(v.index, i);
            let key = (v.date.year(), u8::from(v.date.month()));
            let billed: Vec<FeeItem> = v.items.iter().filter(|x| x.billable).map(|x| x.item).collect();
            let bases = billed.iter().filter(|x| **x != FeeItem::ConsultationSupport).count();
            prop_assert!(bases <= 1, "two base items in one session: {:?}", billed);
            if billed.contains(&FeeItem::ConsultationSupport) {
                prop_assert_eq!(bases, 1, "add-on without a base item");
            }
            if billed.iter().any(|x| matches!(x, FeeItem::Initial | FeeItem::InitialOnline)) {
                *initial_months.entry(key).or_default() += 1;
            }
            if billed.iter().any(|x| matches!(x, FeeItem::FollowUp | FeeItem::FollowUpOnline)) {
                *follow_months.entry(key).or_default() += 1;
            }
            prop_assert_eq!(v.total_points, v.items.iter().map(|x| x.points).sum::<u32>());
        }
        prop_assert!(initial_months.values().all(|n| *n <= 1), "{:?}", initial_months);
        prop_assert!(follow_months.values().all(|n| *n <= 1), "{:?}", follow_months);
    }
}

/// The example in docs/fees.md.
#[test]
fn documented_json_example() {
    let input: FeeInput = serde_json::from_str(
        r#"{"sessions":[{"date":"2026-07-01","setting":"outpatient","delivery":"face_to_face",
        "condition":{"listed_disease":"malignant_neoplasm","repeated_treatment":true,"work_consideration_needed":true},
        "requested_with_consent":true,
        "information":{"document":"jointly_prepared","recipient":"sangyoi","workplace_has_sangyoi":true,"b009_or_b010_billed":false},
        "staff_present":[{"profession":"nurse","training_completed":true,"dedicated":true}],
        "facility":{"consultation_support":true,"online":false},
        "exclusions":{"physician_is_workplace_sangyoi":false,"same_capital":false}}]}"#,
    )
    .expect("documented input parses");
    let out = serde_json::to_value(evaluate(&FeeSchedule::standard(), &input)).expect("serialise");
    assert_eq!(out["sessions"][0]["revision"], "r8");
    assert_eq!(out["sessions"][0]["total_points"], 1250);
    assert_eq!(out["sessions"][0]["items"][0]["item"], "initial");
    assert_eq!(out["sessions"][0]["items"][4]["points"], 400);
    let minimal: FeeInput = serde_json::from_str(
        r#"{"sessions":[{"date":"2026-08-01","setting":"outpatient","delivery":"online",
        "condition":{},"requested_with_consent":true}]}"#,
    )
    .expect("optional fields may be omitted");
    assert!(minimal.sessions[0].information.is_none());
}

//! The answers of the two forms of W2, as a 人事 officer and a 主治医 would write them:
//! realistic Japanese text drawn by a fixed-seed generator, different on every iteration.

use serde_json::{Value, json};
use time::Date;

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }

    /// `k` different items, in the order of `items`.
    pub fn some<'a>(&mut self, items: &[&'a str], k: usize) -> Vec<&'a str> {
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < k.min(items.len()) {
            let i = self.below(items.len());
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.sort_unstable();
        chosen
            .into_iter()
            .filter_map(|i| items.get(i).copied())
            .collect()
    }

    /// `k` different sentences joined into one paragraph.
    fn sentences(&mut self, items: &[&str], k: usize) -> String {
        self.some(items, k).concat()
    }
}

const FAMILY: &[&str] = &[
    "田中",
    "佐藤",
    "鈴木",
    "高橋",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "斎藤",
];
const GIVEN: &[&str] = &[
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "健太",
    "由美",
    "直樹",
    "恵",
    "翔",
    "陽子",
    "大輔",
    "真由美",
    "誠",
    "裕子",
    "拓也",
    "明美",
];
const DEPARTMENTS: &[&str] = &[
    "消化器内科",
    "乳腺外科",
    "呼吸器内科",
    "腫瘍内科",
    "循環器内科",
    "脳神経内科",
    "糖尿病・内分泌内科",
    "血液内科",
];
const ADDRESSES: &[&str] = &[
    "東京都大田区蒲田",
    "東京都品川区大井",
    "東京都目黒区中町",
    "東京都世田谷区若林",
    "神奈川県川崎市中原区小杉町",
    "東京都江東区亀戸",
    "東京都杉並区高円寺南",
];
const OCCUPATIONS: &[&str] = &[
    "製造ライン作業",
    "品質検査",
    "経理事務",
    "法人営業",
    "倉庫内作業",
    "設備保全",
    "生産管理",
    "総務事務",
    "設計（CAD）",
    "配送ドライバー",
];
const JOB_DETAILS: &[&str] = &[
    "本社工場の組立ラインで、精密部品の取付とトルク確認を担当している。",
    "完成品の外観検査と寸法測定を行い、検査記録を端末に入力している。",
    "作業は立ったまま行うことが多く、1日に数回、10kg程度の部品箱を運ぶ。",
    "取引先との打合せのため、週に2日程度は社用車で外回りをしている。",
    "月末と決算期は伝票処理が集中し、終日パソコンに向かう時間が長い。",
    "フォークリフトによる荷の移動と、棚への格納・ピッキングを交代で行う。",
    "夏季は工場内の気温が30度を超える場所での作業がある。",
    "設備の定期点検で、高さ2m程度の脚立上での作業が月に数回ある。",
    "生産計画の作成と、各ラインの進捗確認のため工場内を歩いて回ることが多い。",
    "顧客からの電話対応が1日に20件程度あり、対人業務の負担がある。",
];
const OVERTIME: &[&str] = &[
    "月10時間程度。繁忙期は月20時間程度になる。",
    "月5時間程度。休日出勤はほとんどない。",
    "月15時間程度。月末に集中する。",
    "原則なし。棚卸しの時期のみ休日出勤がある。",
];
const TRIPS: &[&str] = &[
    "国内出張は年に数回（日帰り）。海外出張はない。",
    "出張はない。",
    "取引先訪問のため月1回程度の国内出張（1泊）がある。",
];
const NOTES: &[&str] = &[
    "がん治療のための通院が月2回（平日午前）必要と本人から申出があった。",
    "通院日は時間単位の年次有給休暇の利用を予定している。",
    "短時間勤務制度（1日6時間）の利用を本人が希望している。",
    "当面は残業を免除し、定時で退社できるよう業務を調整する予定。",
    "在宅勤務（週2日まで）を併用できるよう所属長と相談している。",
    "休憩場所として医務室の利用を認める。",
    "化学療法の副作用で体調が変わりやすい時期があると聞いている。",
    "配置転換の希望は現時点ではない。",
    "試し出勤制度の利用について人事と相談中。",
];
const DIAGNOSES: &[&str] = &[
    "胃がん（術後）",
    "乳がん（術後）",
    "大腸がん",
    "肺がん",
    "2型糖尿病",
    "脳梗塞（回復期）",
    "急性心筋梗塞（術後）",
    "関節リウマチ",
    "慢性肝炎",
    "うつ病",
];
const SYMPTOMS: &[&str] = &[
    "術後の倦怠感が残り、午後に疲れやすい。",
    "化学療法の副作用として、投与後数日は吐き気と食欲低下がある。",
    "手指のしびれがあり、細かい作業に時間がかかることがある。",
    "長時間の立位で下肢のむくみが出やすい。",
    "服薬の影響で眠気が出ることがあり、車の運転は控えるよう指導している。",
    "体力は回復傾向にあるが、重いものを持つと創部に痛みが出る。",
    "気分の落ち込みは改善してきたが、睡眠のリズムがまだ整っていない。",
];
const TREATMENT: &[&str] = &[
    "外来で抗がん剤治療を半年間行う予定。月2回の通院が必要。",
    "3週間ごとに点滴治療を行い、投与日と翌日は休養が望ましい。",
    "月1回の定期受診と血液検査を継続する。",
    "放射線治療を平日毎日（約5週間）行う予定で、1回あたり約30分の通院が必要。",
    "内服治療を継続し、3か月ごとに画像検査で経過を確認する。",
    "リハビリテーションを週1回、3か月間継続する。",
];
const MEASURES: &[&str] = &[
    "重量物（10kg以上）の取扱いを避ける。",
    "残業を避け、定時で勤務を終えられるようにする。",
    "当面は短時間勤務（1日6時間）が望ましい。",
    "暑熱環境での作業は避ける。",
    "車の運転は当面控える。",
    "長時間の立位作業を避け、座って行える作業を中心とする。",
    "高所作業は避ける。",
    "長期の出張や海外出張は避ける。",
];
const CONSIDERATIONS: &[&str] = &[
    "通院時間を確保する。",
    "休憩場所を確保し、体調に応じて休憩を取れるようにする。",
    "感染症にかかりやすい時期があるため、人混みでの業務は控えることが望ましい。",
    "体調の変化について、本人が相談しやすい窓口を決めておく。",
    "治療の副作用には個人差があるため、2か月後に改めて意見を述べる。",
];
const TASKS: &[&str] = &[
    "heavy_physical",
    "light_physical",
    "prolonged_standing",
    "hot_environment",
    "driving",
    "machine_operation",
    "customer_facing",
    "domestic_travel",
];
const PATTERNS: &[&str] = &["day_shift", "day_shift", "two_shift", "three_shift"];
const COMMUTES: &[&str] = &[
    "walk",
    "public_transport_seated",
    "public_transport_standing",
    "car",
];
const SYSTEMS: &[&str] = &[
    "hourly_annual_leave",
    "sick_leave",
    "staggered_hours",
    "short_hours",
    "telework",
    "trial_return",
];

/// The words HR searches for in W5: each appears in the work information HR may read.
pub const SEARCH_WORDS: &[&str] = &[
    "がん",
    "通院",
    "短時間勤務",
    "残業",
    "在宅勤務",
    "化学療法",
    "休憩",
    "有給休暇",
];

/// A name for the `k`-th account the bench creates.
pub fn person_name(k: usize) -> String {
    let family = FAMILY.get(k % FAMILY.len()).copied().unwrap_or("田中");
    let given = GIVEN
        .get((k / FAMILY.len() + k) % GIVEN.len())
        .copied()
        .unwrap_or("太郎");
    format!("{family} {given}")
}

/// The hospital's name as the demo world has it.
pub const HOSPITAL: &str = "都立さくら総合病院";
pub const PHYSICIAN: &str = "伊藤 健一";

/// One iteration's people and dates.
pub struct Persona {
    pub name: String,
    pub birth: String,
    pub address: String,
    pub department: &'static str,
}

impl Persona {
    pub fn draw(rng: &mut Rng) -> Persona {
        let name = format!("{} {}", rng.pick(FAMILY), rng.pick(GIVEN));
        let birth = format!(
            "{}-{:02}-{:02}",
            1965 + rng.below(35),
            1 + rng.below(12),
            1 + rng.below(28)
        );
        let address = format!(
            "{}{}-{}-{}",
            rng.pick(ADDRESSES),
            1 + rng.below(5),
            1 + rng.below(20),
            1 + rng.below(30)
        );
        Persona {
            name,
            birth,
            address,
            department: DEPARTMENTS
                .get(rng.below(DEPARTMENTS.len()))
                .copied()
                .unwrap_or("内科"),
        }
    }
}

/// The 勤務情報提供書: what HR first saves as a draft, and the whole form it saves over it.
pub fn work_information(rng: &mut Rng, p: &Persona, today: Date) -> (Value, Value) {
    let addressee = json!({
        "institution": format!("{HOSPITAL} {}", p.department),
        "physician_name": PHYSICIAN,
    });
    let occupation = rng.pick(OCCUPATIONS);
    let draft = json!({
        "addressee": addressee,
        "employee_name": p.name,
        "occupation": occupation,
    });
    let n_tasks = 1 + rng.below(3);
    let n_methods = 1 + rng.below(2);
    let n_systems = 1 + rng.below(3);
    let full = json!({
        "addressee": addressee,
        "employee_name": p.name,
        "date_of_birth": p.birth,
        "address": p.address,
        "occupation": occupation,
        "job_description": {
            "details": rng.sentences(JOB_DETAILS, 3),
            "tasks": rng.some(TASKS, n_tasks),
        },
        "work_pattern": {"pattern": rng.pick(PATTERNS)},
        "work_hours": {
            "start": "8:30",
            "end": "17:30",
            "break_hours": "1",
            "days_per_week": 5,
            "overtime": rng.pick(OVERTIME),
            "business_trips": rng.pick(TRIPS),
        },
        "commute": {
            "methods": rng.some(COMMUTES, n_methods),
            "minutes": (15 + rng.below(76)).to_string(),
        },
        "paid_leave_days": (rng.below(40)).to_string(),
        "other_notes": rng.sentences(NOTES, 3),
        "available_systems": {"systems": rng.some(SYSTEMS, n_systems)},
        "occupational_physician": true,
        "company_contact": {"address": "東京都大田区〇〇1-2-3", "phone": "03-0000-0000"},
        "worker_confirmation": {"date": today.to_string(), "name": p.name},
    });
    (draft, full)
}

/// The 主治医意見書 (就業継続): the physician's first draft and the whole form.
pub fn opinion(rng: &mut Rng, p: &Persona, today: Date) -> (Value, Value) {
    let diagnosis = rng.pick(DIAGNOSES);
    let draft = json!({
        "patient_name": p.name,
        "diagnosis": diagnosis,
    });
    let until = today + time::Duration::days(90 + rng.below(120) as i64);
    let full = json!({
        "patient_name": p.name,
        "date_of_birth": p.birth,
        "address": p.address,
        "diagnosis": diagnosis,
        "current_symptoms": rng.sentences(SYMPTOMS, 2),
        "treatment_plan": rng.sentences(TREATMENT, 2),
        "fitness_for_work": "fit_with_conditions",
        "work_measures": rng.sentences(MEASURES, 3),
        "other_considerations": rng.sentences(CONSIDERATIONS, 2),
        "measure_period": {"from": today.to_string(), "to": until.to_string()},
        "clinic_contact": {"address": "東京都新宿区〇〇4-5-6", "phone": "03-1111-2222"},
        "physician_signature": {"date": today.to_string(), "name": PHYSICIAN},
    });
    (draft, full)
}

/// How many answers (leaf values: text, numbers, choices, signature parts) a form holds.
pub fn count_answers(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.values().map(count_answers).sum(),
        Value::Array(_) | Value::String(_) | Value::Number(_) | Value::Bool(_) => 1,
        Value::Null => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_generator_repeats_for_a_seed_and_differs_between_seeds() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        let some = a.some(TASKS, 3);
        assert_eq!(some.len(), 3);
        let mut dedup = some.clone();
        dedup.dedup();
        assert_eq!(dedup, some);
    }

    #[test]
    fn each_form_holds_10_to_30_answers_and_about_a_kilobyte_of_text() {
        let mut rng = Rng::new(1);
        let today = date!(2026 - 12 - 06);
        for _ in 0..50 {
            let p = Persona::draw(&mut rng);
            let (_, wi) = work_information(&mut rng, &p, today);
            let (_, op) = opinion(&mut rng, &p, today);
            for form in [&wi, &op] {
                let n = count_answers(form);
                assert!((10..=30).contains(&n), "{n} answers: {form}");
                let bytes = serde_json::to_vec(form).unwrap().len();
                assert!((700..=2000).contains(&bytes), "{bytes} bytes: {form}");
            }
            let text = wi.to_string();
            assert!(text.contains(&p.name));
        }
    }
}

//! Enumerated options of the forms, as typed enums (stable code + Japanese label).
//!
//! Codes equal the snake_case variant names so serde and `code()` agree.

use serde::{Deserialize, Serialize};

use super::choice_enum;

// [R] unverified against the MHLW sample: all twelve options of 1a 職務内容.
choice_enum! {
    /// 勤務情報提供書 職務内容: kinds of work included in the job.
    WorkTask {
        HeavyPhysical = "heavy_physical" => "体を使う作業（重作業）",
        LightPhysical = "light_physical" => "体を使う作業（軽作業）",
        ProlongedStanding = "prolonged_standing" => "長時間立位",
        HotEnvironment = "hot_environment" => "暑熱場所での作業",
        ColdEnvironment = "cold_environment" => "寒冷場所での作業",
        WorkAtHeight = "work_at_height" => "高所作業",
        Driving = "driving" => "車の運転",
        MachineOperation = "machine_operation" => "機械の運転・操作",
        CustomerFacing = "customer_facing" => "対人業務",
        DomesticTravel = "domestic_travel" => "遠隔地出張（国内）",
        OverseasTravel = "overseas_travel" => "海外出張",
        LivingApart = "living_apart" => "単身赴任",
    }
}

// [R] unverified against the MHLW sample.
choice_enum! {
    /// 勤務情報提供書 勤務形態.
    WorkPattern {
        DayShift = "day_shift" => "常昼勤務",
        TwoShift = "two_shift" => "二交替勤務",
        ThreeShift = "three_shift" => "三交替勤務",
        Other = "other" => "その他",
    }
}

// [R] unverified against the MHLW sample.
choice_enum! {
    /// 勤務情報提供書 通勤方法.
    CommuteMethod {
        Walk = "walk" => "徒歩",
        PublicTransportSeated = "public_transport_seated" => "公共交通機関（着座可能）",
        PublicTransportStanding = "public_transport_standing" => "公共交通機関（着座不可能）",
        Car = "car" => "自動車",
        Other = "other" => "その他",
    }
}

// [R] unverified against the MHLW sample (the six 制度 themselves are the 指針's list [C]).
choice_enum! {
    /// 勤務情報提供書 利用可能な制度.
    AvailableSystem {
        HourlyAnnualLeave = "hourly_annual_leave" => "時間単位の年次有給休暇",
        SickLeave = "sick_leave" => "傷病休暇・病気休暇",
        StaggeredHours = "staggered_hours" => "時差出勤制度",
        ShortHours = "short_hours" => "短時間勤務制度",
        Telework = "telework" => "在宅勤務（テレワーク）",
        TrialReturn = "trial_return" => "試し出勤制度",
        Other = "other" => "その他",
    }
}

// [R] unverified against the MHLW sample: the parenthesised glosses.
choice_enum! {
    /// 主治医意見書（就業継続） 退院後／治療中の就業継続の可否.
    FitnessForWork {
        Fit = "fit" => "可（職務の健康への悪影響は見込まれない）",
        FitWithConditions = "fit_with_conditions" => "条件付きで可（就業上の措置があれば可能）",
        UnfitForNow = "unfit_for_now" => "現時点で不可（療養の継続が望ましい）",
    }
}

// [P] the 「休業：～ 年 月 日」 wording of the third option is unverified.
choice_enum! {
    /// 主治医意見書（職場復帰） 復職に関する意見. The leave date is a separate field.
    ReturnToWorkFitness {
        Fit = "fit" => "復職可",
        FitWithConditions = "fit_with_conditions" => "条件付き可",
        NotYet = "not_yet" => "現時点で不可（休業：～　年　月　日）",
    }
}

// [R] unverified against the MHLW sample.
choice_enum! {
    /// 両立支援プラン 性別.
    Sex {
        Male = "male" => "男",
        Female = "female" => "女",
    }
}

choice_enum! {
    /// 両立支援カード 本人記載欄 1(1) 身体上の負荷がある作業.
    PhysicalLoadTask {
        Standing = "standing" => "① 立位作業",
        HeavyLifting = "heavy_lifting" => "②-a 重量物の取扱作業",
        LargeMovements = "large_movements" => "②-b 体を大きく動かす作業",
        HeatColdOutdoor = "heat_cold_outdoor" => "③ 暑熱/寒冷/屋外作業",
        VibratingTools = "vibrating_tools" => "④ 振動工具の取扱作業",
        FacingThePublic = "facing_the_public" => "⑤-a 不特定多数の人と対面する作業",
        Pathogens = "pathogens" => "⑤-b 病原体等の取扱作業",
        Respirator = "respirator" => "⑥ 化学物質や粉塵等で呼吸用保護具を装着する作業",
    }
}

choice_enum! {
    /// 両立支援カード 本人記載欄 1(2) 事故の可能性が高まる作業.
    AccidentRiskTask {
        WorkingAlone = "working_alone" => "① 1人作業",
        WorkAtHeight = "work_at_height" => "② 高所作業",
        DangerousMachinery = "dangerous_machinery" => "③ 危険な機械操作・自動車運転",
    }
}

// [P] only ① was captured; the card has more items here. Add them after checking card.pdf.
choice_enum! {
    /// 両立支援カード 本人記載欄 1(3) 心身の負担が高いと感じられる作業.
    MentalBurdenTask {
        LongHours = "long_hours" => "① 残業・休日労働など（長時間労働）",
    }
}

// [P] the third option is unreadable in the source; 「不可（…まで）」 is inferred [I].
choice_enum! {
    /// 両立支援カード 医師記載欄 就労に関する意見.
    CardWorkOpinion {
        Fit = "fit" => "可",
        FitWithConditions = "fit_with_conditions" => "下記ア～ウの条件付き可",
        Unfit = "unfit" => "不可（　年　月　日まで）",
    }
}

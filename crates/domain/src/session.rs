//! Sign-in sessions and sign-in throttling: pure rules over timestamps.

use time::{Duration, OffsetDateTime};

/// A session ends after 30 minutes without a request (idle) or 12 hours after sign-in
/// (absolute), whichever comes first (OWASP ASVS 4.0.3 3.3.2, level 2).
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// A session waiting for its second factor lives briefly.
pub const PENDING_TIMEOUT: Duration = Duration::minutes(10);
/// `last_seen` is written at most this often, so that reading a page does not cost a
/// durable write; idle expiry is therefore exact to within this much.
pub const TOUCH_INTERVAL: Duration = Duration::seconds(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCheck {
    Valid { touch: bool },
    IdleExpired,
    AbsoluteExpired,
}

pub fn check_session(
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    pending_second_factor: bool,
    now: OffsetDateTime,
) -> SessionCheck {
    let absolute = if pending_second_factor {
        PENDING_TIMEOUT
    } else {
        ABSOLUTE_TIMEOUT
    };
    if now - created_at >= absolute {
        SessionCheck::AbsoluteExpired
    } else if now - last_seen_at >= IDLE_TIMEOUT {
        SessionCheck::IdleExpired
    } else {
        SessionCheck::Valid {
            touch: now - last_seen_at >= TOUCH_INTERVAL,
        }
    }
}

/// Failed sign-ins counted for one key (an account name or a client address) over the last
/// hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureStats {
    pub count: u32,
    pub oldest: Option<OffsetDateTime>,
    pub latest: Option<OffsetDateTime>,
}

pub const THROTTLE_WINDOW: Duration = Duration::hours(1);

/// Limits per key: free attempts before back-off, the back-off cap, and the hard ceiling
/// per hour. Nothing ever locks an account for good: the worst case is waiting for the
/// hour window to move on.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub free: u32,
    pub max_delay: Duration,
    pub per_hour: u32,
}

/// At most 100 failures per account per hour (ASVS 4.0.3 2.2.1).
pub const ACCOUNT_LIMITS: ThrottleLimits = ThrottleLimits {
    free: 5,
    max_delay: Duration::seconds(60),
    per_hour: 100,
};

/// An address may try many accounts (a shared office NAT), but not without bound.
pub const ADDRESS_LIMITS: ThrottleLimits = ThrottleLimits {
    free: 30,
    max_delay: Duration::seconds(60),
    per_hour: 1000,
};

/// When the next attempt may be made, or `None` when it may be made now.
pub fn next_attempt_allowed(
    stats: FailureStats,
    limits: ThrottleLimits,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let latest = stats.latest?;
    if stats.count >= limits.per_hour {
        let until = stats.oldest.unwrap_or(latest) + THROTTLE_WINDOW;
        return (until > now).then_some(until);
    }
    if stats.count < limits.free {
        return None;
    }
    let exp = (stats.count - limits.free).min(16);
    let delay = Duration::seconds(1_i64 << exp).min(limits.max_delay);
    let until = latest + delay;
    (until > now).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-04-01 09:00 UTC);

    #[test]
    fn idle_and_absolute_expiry() {
        assert_eq!(
            check_session(T0, T0, false, T0 + Duration::minutes(29)),
            SessionCheck::Valid { touch: true }
        );
        assert_eq!(
            check_session(T0, T0, false, T0 + Duration::seconds(10)),
            SessionCheck::Valid { touch: false }
        );
        assert_eq!(
            check_session(T0, T0, false, T0 + Duration::minutes(30)),
            SessionCheck::IdleExpired
        );
        let active = T0 + Duration::hours(12) - Duration::minutes(1);
        assert_eq!(
            check_session(T0, active, false, T0 + Duration::hours(12)),
            SessionCheck::AbsoluteExpired
        );
        assert_eq!(
            check_session(T0, T0, true, T0 + Duration::minutes(11)),
            SessionCheck::AbsoluteExpired
        );
    }

    #[test]
    fn back_off_grows_after_the_free_attempts() {
        let mut s = FailureStats {
            count: 4,
            oldest: Some(T0),
            latest: Some(T0),
        };
        assert_eq!(next_attempt_allowed(s, ACCOUNT_LIMITS, T0), None);
        s.count = 5;
        assert_eq!(
            next_attempt_allowed(s, ACCOUNT_LIMITS, T0),
            Some(T0 + Duration::seconds(1))
        );
        s.count = 8;
        assert_eq!(
            next_attempt_allowed(s, ACCOUNT_LIMITS, T0),
            Some(T0 + Duration::seconds(8))
        );
        s.count = 40;
        assert_eq!(
            next_attempt_allowed(s, ACCOUNT_LIMITS, T0),
            Some(T0 + Duration::seconds(60))
        );
        assert_eq!(
            next_attempt_allowed(s, ACCOUNT_LIMITS, T0 + Duration::seconds(61)),
            None
        );
    }

    #[test]
    fn a_hundred_failures_in_an_hour_stop_attempts_until_the_window_moves() {
        let s = FailureStats {
            count: 100,
            oldest: Some(T0),
            latest: Some(T0 + Duration::minutes(50)),
        };
        let until = next_attempt_allowed(s, ACCOUNT_LIMITS, T0 + Duration::minutes(55));
        assert_eq!(until, Some(T0 + Duration::hours(1)));
        // never permanent
        assert_eq!(
            next_attempt_allowed(s, ACCOUNT_LIMITS, T0 + Duration::hours(1)),
            None
        );
    }
}

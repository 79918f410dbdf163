//! Server-side sessions: an opaque random token (cookie `medfund_session`, HttpOnly, SameSite=Strict,
//! Secure; or `Authorization: Bearer <token>` for hospital systems), an idle expiry, and a CSRF
//! token that cookie-authenticated state-changing requests must echo in `X-CSRF-Token`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// 32 random bytes as hex, from the operating system's generator.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system's random generator is available");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One logged-in session.
#[derive(Clone, Debug)]
pub struct Session<A> {
    pub actor: A,
    pub csrf: String,
    pub last_seen: Instant,
    pub created: Instant,
}

/// Sessions in memory: a restart logs everybody out, which is the safe default for a single
/// server process.
pub struct Sessions<A> {
    map: Mutex<HashMap<String, Session<A>>>,
    idle: Duration,
    absolute: Duration,
}

impl<A: Clone> Sessions<A> {
    /// `idle`: expiry after inactivity; `absolute`: expiry after login regardless of activity.
    pub fn new(idle: Duration, absolute: Duration) -> Self {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            absolute,
        }
    }

    /// Creates a session; returns (token, csrf).
    pub fn create(&self, actor: A) -> (String, String) {
        let token = random_token();
        let csrf = random_token();
        let now = Instant::now();
        let mut m = self.map.lock().unwrap();
        // Drop expired sessions so the map cannot grow without bound.
        m.retain(|_, s| {
            now.duration_since(s.last_seen) < self.idle
                && now.duration_since(s.created) < self.absolute
        });
        m.insert(
            token.clone(),
            Session {
                actor,
                csrf: csrf.clone(),
                last_seen: now,
                created: now,
            },
        );
        (token, csrf)
    }

    /// The live session of a token (touching it), or `None` when unknown or expired.
    pub fn get(&self, token: &str) -> Option<Session<A>> {
        let now = Instant::now();
        let mut m = self.map.lock().unwrap();
        let live = match m.get_mut(token) {
            Some(s)
                if now.duration_since(s.last_seen) < self.idle
                    && now.duration_since(s.created) < self.absolute =>
            {
                s.last_seen = now;
                Some(s.clone())
            }
            Some(_) => None,
            None => return None,
        };
        if live.is_none() {
            m.remove(token);
        }
        live
    }

    /// Ends a session.
    pub fn remove(&self, token: &str) {
        self.map.lock().unwrap().remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let (t, csrf) = s.create("alice".to_string());
        assert_eq!(t.len(), 64);
        assert_ne!(t, csrf);
        assert_eq!(s.get(&t).unwrap().actor, "alice");
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.get(&t).is_none(), "idle session expired");
        let (t2, _) = s.create("bob".to_string());
        s.remove(&t2);
        assert!(s.get(&t2).is_none());
        assert!(s.get("nonsense").is_none());
    }
}

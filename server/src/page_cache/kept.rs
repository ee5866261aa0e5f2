//! The kept pages and their freshness: a page is served again while nothing
//! it shows can have changed, and one request renders it while the others
//! asking for it at the same moment wait for that render instead of each
//! rendering their own.

use axum::body::Bytes;
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Distinct pages kept (search queries make many); past this the cache
/// starts over rather than grow.
const MAX_ENTRIES: usize = 512;

/// A rendered, compressed response.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// How long a kept page stays good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Built from what ships in the binary: good forever.
    Forever,
    /// Shows live state: good while no app event happened since its render
    /// began, and for at most this long (for what changes without an event:
    /// a download's progress, an uptime).
    UntilEvent(Duration),
}

/// What a render ended with: `None` when it may not be shared.
type Outcome = Option<Option<Page>>;

/// One key's kept page and the render under way, if any.
struct Entry {
    kept: Option<Kept>,
    flight: Option<Flight>,
}

struct Kept {
    page: Page,
    generation: u64,
    /// When its render began (what it shows is at least this old).
    born: Instant,
}

struct Flight {
    id: u64,
    generation: u64,
    started: Instant,
    done: watch::Receiver<Outcome>,
}

/// What a request for a key should do.
pub enum Lookup<K: Eq + Hash + Clone> {
    /// Serve this kept page.
    Hit(Page),
    /// Another request is rendering it now: wait for that.
    Wait(Waiter),
    /// Render it, then [`Render::keep`] it (or drop it to give up).
    Render(Render<K>),
}

/// Waits for a render that another request started.
pub struct Waiter(watch::Receiver<Outcome>);

impl Waiter {
    /// The page the other render kept, or `None` when it could not be kept
    /// (an error, a redirect, a cancelled request): render it yourself.
    pub async fn page(mut self) -> Option<Page> {
        match self.0.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().flatten(),
            Err(_) => None,
        }
    }
}

/// The one render of a key under way; dropping it unkept tells the waiters
/// to render themselves.
pub struct Render<K: Eq + Hash + Clone> {
    pages: Pages<K>,
    key: K,
    id: u64,
    generation: u64,
    started: Instant,
    done: watch::Sender<Outcome>,
}

impl<K: Eq + Hash + Clone> Render<K> {
    /// Keeps `page` (when it is shareable) and hands it to the waiters.
    pub fn keep(self, page: Option<Page>) {
        {
            let mut entries = self.pages.lock();
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&self.key) {
                entries.clear();
            }
            let entry = entries.entry(self.key.clone()).or_insert(Entry {
                kept: None,
                flight: None,
            });
            if let Some(page) = &page {
                // A slower render that began before a newer one must not
                // replace it.
                if entry
                    .kept
                    .as_ref()
                    .is_none_or(|k| k.generation <= self.generation)
                {
                    entry.kept = Some(Kept {
                        page: page.clone(),
                        generation: self.generation,
                        born: self.started,
                    });
                }
            }
        }
        let _ = self.done.send(Some(page));
    }
}

impl<K: Eq + Hash + Clone> Drop for Render<K> {
    fn drop(&mut self) {
        let mut entries = self.pages.lock();
        if let Some(entry) = entries.get_mut(&self.key) {
            if entry.flight.as_ref().is_some_and(|f| f.id == self.id) {
                entry.flight = None;
            }
        }
    }
}

/// The kept pages by key. Clone freely.
pub struct Pages<K> {
    entries: Arc<Mutex<HashMap<K, Entry>>>,
    flights: Arc<std::sync::atomic::AtomicU64>,
}

impl<K> Clone for Pages<K> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            flights: self.flights.clone(),
        }
    }
}

impl<K> Default for Pages<K> {
    fn default() -> Self {
        Self {
            entries: Default::default(),
            flights: Default::default(),
        }
    }
}

impl<K: Eq + Hash + Clone> Pages<K> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, Entry>> {
        // A poisoned lock only means a panic elsewhere; the map is whole.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pages kept now.
    pub fn len(&self) -> usize {
        self.lock().values().filter(|e| e.kept.is_some()).count()
    }

    /// What to do for `key` at `now`, with `generation` the app-event count
    /// read before anything else (so a render that began before an event
    /// never counts as newer than it).
    pub fn lookup(&self, key: &K, rule: Rule, generation: u64, now: Instant) -> Lookup<K> {
        let fresh = |g: u64, since: Instant| match rule {
            Rule::Forever => true,
            Rule::UntilEvent(ttl) => g == generation && now.saturating_duration_since(since) < ttl,
        };
        let mut entries = self.lock();
        if let Some(entry) = entries.get(key) {
            if let Some(kept) = entry.kept.as_ref().filter(|k| fresh(k.generation, k.born)) {
                return Lookup::Hit(kept.page.clone());
            }
            if let Some(flight) = entry
                .flight
                .as_ref()
                .filter(|f| fresh(f.generation, f.started) && f.done.has_changed().is_ok())
            {
                return Lookup::Wait(Waiter(flight.done.clone()));
            }
        }
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.clear();
        }
        let id = self
            .flights
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (done, rx) = watch::channel(None);
        let entry = entries.entry(key.clone()).or_insert(Entry {
            kept: None,
            flight: None,
        });
        entry.flight = Some(Flight {
            id,
            generation,
            started: now,
            done: rx,
        });
        Lookup::Render(Render {
            pages: self.clone(),
            key: key.clone(),
            id,
            generation,
            started: now,
            done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &'static str) -> Page {
        Page {
            headers: HeaderMap::new(),
            body: Bytes::from_static(text.as_bytes()),
        }
    }

    fn hit(lookup: Lookup<&'static str>) -> Option<Bytes> {
        match lookup {
            Lookup::Hit(page) => Some(page.body),
            _ => None,
        }
    }

    fn render(lookup: Lookup<&'static str>) -> Render<&'static str> {
        match lookup {
            Lookup::Render(render) => render,
            Lookup::Hit(_) => panic!("served a kept page"),
            Lookup::Wait(_) => panic!("waited"),
        }
    }

    const LIVE: Rule = Rule::UntilEvent(Duration::from_secs(1));

    #[test]
    fn a_live_page_is_kept_until_an_event_or_its_time_is_up() {
        let pages = Pages::default();
        let t0 = Instant::now();
        render(pages.lookup(&"/my", LIVE, 7, t0)).keep(Some(page("v1")));
        assert_eq!(hit(pages.lookup(&"/my", LIVE, 7, t0)).unwrap(), "v1");
        let later = t0 + Duration::from_millis(999);
        assert_eq!(hit(pages.lookup(&"/my", LIVE, 7, later)).unwrap(), "v1");
        // An event: the very next request renders.
        render(pages.lookup(&"/my", LIVE, 8, t0)).keep(Some(page("v2")));
        assert_eq!(hit(pages.lookup(&"/my", LIVE, 8, t0)).unwrap(), "v2");
        // No event, but its time is up.
        let expired = t0 + Duration::from_secs(1);
        render(pages.lookup(&"/my", LIVE, 8, expired));
    }

    #[test]
    fn a_render_that_began_before_an_event_is_not_served_after_it() {
        let pages = Pages::default();
        let t0 = Instant::now();
        let old = render(pages.lookup(&"/my", LIVE, 1, t0));
        // The event happens while it renders; a request after it renders
        // afresh rather than waiting for the old render.
        let new = render(pages.lookup(&"/my", LIVE, 2, t0));
        new.keep(Some(page("new")));
        old.keep(Some(page("old")));
        // The old one was not kept over the new one.
        assert_eq!(hit(pages.lookup(&"/my", LIVE, 2, t0)).unwrap(), "new");
    }

    #[test]
    fn catalog_pages_are_kept_whatever_happens_to_apps() {
        let pages = Pages::default();
        let t0 = Instant::now();
        render(pages.lookup(&"/", Rule::Forever, 1, t0)).keep(Some(page("catalog")));
        let much_later = t0 + Duration::from_secs(3600);
        assert_eq!(
            hit(pages.lookup(&"/", Rule::Forever, 99, much_later)).unwrap(),
            "catalog"
        );
    }

    #[tokio::test]
    async fn requests_during_a_render_wait_for_it_and_render_themselves_if_it_fails() {
        let pages = Pages::default();
        let t0 = Instant::now();
        let first = render(pages.lookup(&"/my", LIVE, 1, t0));
        let Lookup::Wait(waiter) = pages.lookup(&"/my", LIVE, 1, t0) else {
            panic!("a second render began");
        };
        first.keep(Some(page("once")));
        assert_eq!(waiter.page().await.unwrap().body, "once");

        // A render that cannot be shared (a redirect) or is dropped (the
        // client left) sends its waiters off to render their own.
        let expired = t0 + Duration::from_secs(5);
        let failing = render(pages.lookup(&"/my", LIVE, 1, expired));
        let Lookup::Wait(waiter) = pages.lookup(&"/my", LIVE, 1, expired) else {
            panic!("a second render began");
        };
        failing.keep(None);
        assert!(waiter.page().await.is_none());
        let dropped = render(pages.lookup(&"/my", LIVE, 1, expired));
        let Lookup::Wait(waiter) = pages.lookup(&"/my", LIVE, 1, expired) else {
            panic!("a second render began");
        };
        drop(dropped);
        assert!(waiter.page().await.is_none());
        // And the next request is not told to wait for the dropped render.
        render(pages.lookup(&"/my", LIVE, 1, expired));
    }
}

//! The browser check: a hidden `proof` field that the page fills with the answer to the
//! server's proof-of-work puzzle, solved in the background in small slices so that the page
//! stays responsive. Without JavaScript the field stays empty and the server applies its
//! tighter limits instead.

use std::time::Duration;

use leptos::prelude::*;

use crate::{
    api::signin::proof_challenge,
    i18n::{tu_string, use_i18n},
    model::proof_of_work::{answer, search, Challenge},
};

/// Hashes tried per slice before the page gets the main thread back.
const SLICE: u64 = 20_000;

/// The hidden field for `purpose` ("register" or "sign-in"). A new puzzle is fetched whenever
/// `renew` changes (after every submission: an answer counts once). `working` is true while
/// the browser solves.
#[component]
pub fn BrowserCheck(
    purpose: &'static str,
    #[prop(into)] renew: Signal<usize>,
    working: RwSignal<bool>,
) -> impl IntoView {
    let puzzle = Resource::new(
        move || renew.get(),
        move |_| proof_challenge(purpose.to_owned()),
    );
    let i18n = use_i18n();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let puzzle = puzzle.await.ok().flatten();
                view! { <Solver puzzle working /> }
            })}
        </Suspense>
        <Show when=move || working.get()>
            <p class="aside" role="status">{tu_string!(i18n, proof_of_work.checking)}</p>
        </Show>
    }
}

#[component]
fn Solver(puzzle: Option<Challenge>, working: RwSignal<bool>) -> impl IntoView {
    let solved = RwSignal::new(String::new());
    // Effects run in the browser only, after hydration.
    Effect::new(move |_| match puzzle.clone() {
        Some(puzzle) => {
            working.set(true);
            solve_from(puzzle, 0, solved, working);
        }
        None => working.set(false),
    });
    view! { <input type="hidden" name="proof" prop:value=move || solved.get() /> }
}

fn solve_from(puzzle: Challenge, from: u64, solved: RwSignal<String>, working: RwSignal<bool>) {
    if solved.is_disposed() {
        // A newer puzzle replaced this one.
        return;
    }
    match search(&puzzle, from, SLICE) {
        Some(counter) => {
            solved.set(answer(&puzzle.challenge, counter));
            working.set(false);
        }
        None => set_timeout(
            move || solve_from(puzzle, from + SLICE, solved, working),
            Duration::ZERO,
        ),
    }
}

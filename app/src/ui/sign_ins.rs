//! The profile's "Where you're signed in": each live sign-in with its device, place, network,
//! method and times, this browser marked; end one, or all the others.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::{
    api::sign_ins::{sign_ins, EndOtherSignIns, EndSignIn, SignInView},
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn SignInsSection() -> impl IntoView {
    let end = ServerAction::<EndSignIn>::new();
    let end_others = ServerAction::<EndOtherSignIns>::new();
    let list = Resource::new(
        move || (end.version().get(), end_others.version().get()),
        |_| sign_ins(),
    );
    let query = use_query_map();
    let ended = move || query.read().get("sign_in_ended").is_some();
    let others_ended = move || query.read().get("others_ended").is_some();
    let i18n = use_i18n();
    view! {
        <section class="subsection" aria-labelledby="sign-ins-heading">
            <h2 id="sign-ins-heading">{tu_string!(i18n, sign_ins.heading)}</h2>
            <Show when=ended>
                <p class="notice" role="status">{tu_string!(i18n, sign_ins.notice_ended)}</p>
            </Show>
            <Show when=others_ended>
                <p class="notice" role="status">{tu_string!(i18n, sign_ins.notice_others_ended)}</p>
            </Show>
            <FormError error=last_error(end.value()) />
            <FormError error=last_error(end_others.value()) />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let all = list.await.unwrap_or_default();
                    let others = all.iter().filter(|s| !s.this_device).count();
                    view! {
                        <ul class="sign-ins">
                            {all.into_iter().map(|s| view! { <SignInItem s end /> }).collect_view()}
                        </ul>
                        {(others > 0).then(|| view! {
                            <ActionForm action=end_others>
                                <button type="submit" class="button-secondary">
                                    {tu_string!(i18n, sign_ins.end_others)}
                                </button>
                            </ActionForm>
                        })}
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SignInItem(s: SignInView, end: ServerAction<EndSignIn>) -> impl IntoView {
    let i18n = use_i18n();
    let mut facts = vec![tu_string!(
        i18n,
        sign_ins.signed_in_by,
        when = &s.signed_in,
        method = &s.method,
    )];
    facts.push(tu_string!(i18n, sign_ins.last_seen, when = &s.last_seen));
    if let Some(place) = &s.place {
        facts.push(tu_string!(i18n, sign_ins.in_place, place = place));
    }
    if let Some(network) = &s.network {
        facts.push(tu_string!(i18n, sign_ins.from_network, network = network));
    }
    view! {
        <li data-sign-in>
            <strong>{s.device}</strong>
            {s.this_device.then(|| view! { " " <span class="badge badge-ok">{tu_string!(i18n, sign_ins.badge_this_device)}</span> })}
            <br />
            <span class="aside">{facts.join(" · ")}</span>
            {(!s.this_device).then(|| view! {
                <ActionForm action=end attr:class="inline">
                    <input type="hidden" name="id" value=s.id />
                    <button type="submit" class="button-secondary">{tu_string!(i18n, sign_ins.end)}</button>
                </ActionForm>
            })}
        </li>
    }
}

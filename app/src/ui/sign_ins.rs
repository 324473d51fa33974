//! The profile's "Where you're signed in": each live sign-in with its device, place, network,
//! method and times, this browser marked; end one, or all the others.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::api::sign_ins::{sign_ins, EndOtherSignIns, EndSignIn, SignInView};

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
    view! {
        <section class="subsection" aria-labelledby="sign-ins-heading">
            <h2 id="sign-ins-heading">"Where you're signed in"</h2>
            <Show when=ended>
                <p class="notice" role="status">"That device is signed out."</p>
            </Show>
            <Show when=others_ended>
                <p class="notice" role="status">"Every other device is signed out."</p>
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
                                    "Sign out every other device"
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
    let mut facts = vec![format!("signed in {} by {}", s.signed_in, s.method)];
    facts.push(format!("last seen {}", s.last_seen));
    if let Some(place) = &s.place {
        facts.push(format!("in {place}"));
    }
    if let Some(network) = &s.network {
        facts.push(format!("from {network}"));
    }
    view! {
        <li data-sign-in>
            <strong>{s.device}</strong>
            {s.this_device.then(|| view! { " " <span class="badge badge-ok">"this device"</span> })}
            <br />
            <span class="aside">{facts.join(" · ")}</span>
            {(!s.this_device).then(|| view! {
                <ActionForm action=end attr:class="inline">
                    <input type="hidden" name="id" value=s.id />
                    <button type="submit" class="button-secondary">"End sign-in"</button>
                </ActionForm>
            })}
        </li>
    }
}

//! Admin console pages (so far: the development mail and SMS outboxes).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::{
    admin::{recent_mail, recent_texts},
    error::AppError,
};

#[component]
pub fn OutboxPage() -> impl IntoView {
    let mail = Resource::new(|| (), |_| recent_mail());
    let texts = Resource::new(|| (), |_| recent_texts());
    view! {
        <Title text="Mail outbox" />
        <section class="card card-wide">
            <h1>"Mail outbox"</h1>
            <p>"The newest 50 messages the product queued, delivered or not."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match mail.await {
                        Ok(list) => view! {
                            <ul class="outbox">
                                {list.into_iter().map(|m| view! {
                                    <li>
                                        <p class="outbox-head">
                                            <strong>{m.subject}</strong>
                                            " → " {m.recipient}
                                            " · " {m.created_at}
                                            " · " {if m.delivered { "delivered".to_string() } else { format!("pending ({} attempts)", m.attempts) }}
                                        </p>
                                        <pre>{m.body_text}</pre>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/signin" /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <h2>"Text messages"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match texts.await {
                        Ok(list) if list.is_empty() => view! { <p>"No texts yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="outbox">
                                {list.into_iter().map(|t| view! {
                                    <li>
                                        <p class="outbox-head">
                                            <strong>{t.recipient}</strong>
                                            " · " {t.created_at}
                                            " · " {t.status} " (" {t.attempts} " attempts)"
                                        </p>
                                        <pre>{t.body}</pre>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

//! Admin console pages (so far: the development mail and SMS outboxes).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::{
    api::{
        admin::{recent_mail, recent_texts},
        error::AppError,
    },
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn OutboxPage() -> impl IntoView {
    let mail = Resource::new(|| (), |_| recent_mail());
    let texts = Resource::new(|| (), |_| recent_texts());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, admin.outbox_heading) />
        <section class="card card-wide">
            <h1>{tu_string!(i18n, admin.outbox_heading)}</h1>
            <p>{tu_string!(i18n, admin.outbox_intro)}</p>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, admin.loading)}</p> }>
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
                                            " · " {if m.delivered {
                                                tu_string!(i18n, admin.mail_delivered).to_string()
                                            } else {
                                                tu_string!(i18n, admin.mail_pending, attempts = m.attempts)
                                            }}
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
            <h2>{tu_string!(i18n, admin.texts_heading)}</h2>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, admin.loading)}</p> }>
                {move || Suspend::new(async move {
                    match texts.await {
                        Ok(list) if list.is_empty() => view! { <p>{tu_string!(i18n, admin.no_texts)}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="outbox">
                                {list.into_iter().map(|t| view! {
                                    <li>
                                        <p class="outbox-head">
                                            <strong>{t.recipient}</strong>
                                            " · " {t.created_at}
                                            " · " {t.status} {tu_string!(i18n, admin.text_attempts, attempts = t.attempts)}
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

//! Accessible form pieces: labelled fields with their errors announced beside them, the
//! form-level error, and the password strength meter.

use leptos::prelude::*;

use crate::{
    api::{account::PasswordStrength, error::AppError},
    i18n::{tu_string, use_i18n},
    I18n,
};

/// The error of the last submission of a form, if it failed.
pub fn last_error<T, V>(value: V) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
    V: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// The message for `field` in `error`.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
}

/// A labelled input with its error message.
#[component]
pub fn Field(
    /// Visible label text.
    label: &'static str,
    /// The input's name (also its id unless `id` is given).
    name: &'static str,
    /// The input's id, when two forms on a page share a field name.
    #[prop(optional)]
    id: Option<&'static str>,
    /// The on-screen keyboard to offer (e.g. "numeric").
    #[prop(optional)]
    inputmode: Option<&'static str>,
    /// The input type.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    /// The error shown next to the field.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// The field's value, kept in sync as the user types.
    #[prop(optional)]
    value: RwSignal<String>,
    /// A hint shown under the label.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// Extra content under the input (for example a strength meter).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="field-hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                inputmode=inputmode
                autocomplete=autocomplete
                required=true
                value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().map(|_| "true")
                aria-describedby=described_by
            />
            {children.map(|c| c())}
            <p class="field-error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// The fields of a one-time code form: the form's error and the code input (its id `id`, when
/// two code forms share a page).
#[component]
pub fn CodeFields(
    error: Signal<Option<AppError>>,
    #[prop(default = "code")] id: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <FormError error />
        <Field
            label=tu_string!(i18n, common.code_label)
            name="code"
            id=id
            inputmode="numeric"
            autocomplete="one-time-code"
            error=field_error(error, "code")
        />
    }
}

/// The message of `error` for the form as a whole, in the page's language: the server's own
/// wording for refusals that carry one, a translation for the fixed cases.
pub fn form_message(i18n: I18n, error: &AppError) -> Option<String> {
    let fixed = match error {
        AppError::Field { .. } => return None,
        AppError::Refused(_) | AppError::Locked(_) | AppError::BadRequest(_) => {
            return error.form_message()
        }
        AppError::Throttled { minutes: 1 } => tu_string!(i18n, common.error_throttled_one),
        AppError::Throttled { minutes } => {
            return Some(tu_string!(i18n, common.error_throttled, minutes = *minutes))
        }
        AppError::InvalidCredentials => tu_string!(i18n, common.error_invalid_credentials),
        AppError::ProofOfWork => tu_string!(i18n, common.error_proof_of_work),
        AppError::EmailNotVerified => tu_string!(i18n, common.error_email_not_verified),
        AppError::StepUp => tu_string!(i18n, common.error_step_up),
        AppError::Unauthorized => tu_string!(i18n, common.error_unauthorized),
        AppError::Forbidden => tu_string!(i18n, common.error_forbidden),
        AppError::NotFound => tu_string!(i18n, common.error_not_found),
        AppError::Internal => tu_string!(i18n, common.error_internal),
        AppError::Busy => tu_string!(i18n, common.error_busy),
        AppError::Unavailable => tu_string!(i18n, common.error_unavailable),
    };
    Some(fixed.to_owned())
}

/// The message of an error that is not about one field. A change that needs a recent proof
/// offers the link that asks for it and comes back to this page.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let i18n = use_i18n();
    let step_up = move || {
        let here = format!("{}{}", location.pathname.get(), location.search.get());
        format!("/signin/step-up?return_to={}", query_value(&here))
    };
    view! {
        <div class="form-error" role="alert">
            {move || error.get().and_then(|e| form_message(i18n, &e)).map(|m| view! { <p>{m}</p> })}
            <Show when=move || error.get() == Some(AppError::StepUp)>
                <p><a href=step_up class="button">{tu_string!(i18n, common.confirm_its_you)}</a></p>
            </Show>
        </div>
    }
}

/// `value` percent-encoded for a query string (RFC 3986 unreserved characters and `/` stay).
pub(crate) fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A strength meter for a password being typed; it asks the server, which also decides on
/// submit. Shown only once the page is interactive.
#[component]
pub fn StrengthMeter(
    password: RwSignal<String>,
    #[prop(optional)] email: RwSignal<String>,
    #[prop(optional)] display_name: RwSignal<String>,
) -> impl IntoView {
    let rate = ServerAction::<PasswordStrength>::new();
    let i18n = use_i18n();
    Effect::new(move |_| {
        let password = password.get();
        if !password.is_empty() {
            rate.dispatch(PasswordStrength {
                password,
                email: email.get_untracked(),
                display_name: display_name.get_untracked(),
            });
        }
    });
    let reading = move || {
        rate.value()
            .get()
            .and_then(Result::ok)
            .filter(|_| !password.get().is_empty())
    };
    view! {
        <div class="strength" aria-live="polite">
            {move || {
                reading()
                    .map(|r| {
                        let class = if r.acceptable { "strength-ok" } else { "strength-weak" };
                        view! {
                            <meter min="0" max="4" low="2" high="3" optimum="4" value=r.score>
                                {r.score}
                                {tu_string!(i18n, common.strength_of_4)}
                            </meter>
                            <span class=class>{r.message}</span>
                        }
                    })
            }}
        </div>
    }
}

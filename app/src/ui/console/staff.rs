//! The staff list: who holds which role; an owner changes roles, removes staff and invites
//! someone (the setup link is mailed to them).

use leptos::prelude::*;
use leptos_meta::Title;

use super::{ConsoleFrame, ReasonFields};
use crate::{
    api::console::staff::{
        list_staff, ChangeStaffRole, ConsoleView, InviteStaff, RemoveStaff, StaffMember,
    },
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
};

#[component]
pub fn StaffPage() -> impl IntoView {
    let i18n = use_i18n();
    let change = ServerAction::<ChangeStaffRole>::new();
    let remove = ServerAction::<RemoveStaff>::new();
    let invite = ServerAction::<InviteStaff>::new();
    let staff = Resource::new(
        move || {
            (
                change.version().get(),
                remove.version().get(),
                invite.version().get(),
            )
        },
        |_| list_staff(),
    );
    let change_error = last_error(change.value());
    let remove_error = last_error(remove.value());
    let invite_error = last_error(invite.value());
    view! {
        <Title text=tu_string!(i18n, console_staff.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=staff page={move |view: ConsoleView, list: Vec<StaffMember>| {
                let manage = view.permissions.iter().any(|p| p == "staff.manage");
                view! {
                    <h1>{tu_string!(i18n, console_staff.heading)}</h1>
                    <FormError error=change_error />
                    <FormError error=remove_error />
                    <table class="console-table" id="staff">
                        <thead><tr><th>{tu_string!(i18n, console_staff.col_who)}</th><th>{tu_string!(i18n, console_staff.col_role)}</th><th>{tu_string!(i18n, console_staff.col_since)}</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|m| {
                                let id = m.user_id.clone();
                                let remove_id = m.user_id.clone();
                                let role = m.role.clone();
                                view! {
                                    <tr>
                                        <td>{m.email} <br /><span class="aside">{m.display_name}</span></td>
                                        <td>{m.role}</td>
                                        <td>{m.since}</td>
                                    </tr>
                                    {manage.then(|| view! {
                                        <tr><td colspan="3">
                                            <ActionForm action=change attr:class="console-action">
                                                <label for=format!("role-{id}")>{tu_string!(i18n, console_staff.role_label)}</label>
                                                <select id=format!("role-{id}") name="role">
                                                    {["owner", "admin", "support", "auditor"].into_iter().map(|r| view! {
                                                        <option value=r selected={role == r}>{r}</option>
                                                    }).collect_view()}
                                                </select>
                                                <ReasonFields id=format!("change-{id}") error=change_error />
                                                <input type="hidden" name="user_id" value=id />
                                                <button type="submit">{tu_string!(i18n, console_staff.change_role)}</button>
                                            </ActionForm>
                                            <ActionForm action=remove attr:class="console-action">
                                                <ReasonFields id=format!("remove-{remove_id}") error=remove_error />
                                                <input type="hidden" name="user_id" value=remove_id />
                                                <button type="submit">{tu_string!(i18n, console_staff.remove)}</button>
                                            </ActionForm>
                                        </td></tr>
                                    })}
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {manage.then(|| view! {
                        <h2>{tu_string!(i18n, console_staff.invite_heading)}</h2>
                        {move || invite.value().get().and_then(Result::ok).map(|sent| view! {
                            <p class="notice" role="status">{if sent { tu_string!(i18n, console_staff.invite_sent) } else { tu_string!(i18n, console_staff.invite_not_needed) }}</p>
                        })}
                        <ActionForm action=invite attr:id="staff-invite">
                            <FormError error=invite_error />
                            <div class="field">
                                <label for="invite-email">{tu_string!(i18n, console_staff.email_label)}</label>
                                <input id="invite-email" name="email" type="email" required />
                                <p class="field-error" role="alert">{move || invite_error.get().and_then(|e| e.for_field("email"))}</p>
                            </div>
                            <div class="field">
                                <label for="invite-role">{tu_string!(i18n, console_staff.role_label)}</label>
                                <select id="invite-role" name="role">
                                    {["support", "auditor", "admin", "owner"].into_iter().map(|r| view! { <option value=r>{r}</option> }).collect_view()}
                                </select>
                            </div>
                            <div class="field field-check">
                                <input type="checkbox" id="invite-confirm" name="confirm" value="yes" required />
                                <label for="invite-confirm">{tu_string!(i18n, console_staff.confirm)}</label>
                            </div>
                            <button type="submit">{tu_string!(i18n, console_staff.invite)}</button>
                        </ActionForm>
                    })}
                }
            }} />
        </section>
    }
}

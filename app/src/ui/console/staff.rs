//! The staff list: who holds which role; an owner changes roles and removes staff.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{ConsoleNav, ReasonFields, Refused};
use crate::{
    api::console::staff::{console_me, list_staff, ChangeStaffRole, RemoveStaff},
    ui::form::{last_error, FormError},
};

#[component]
pub fn StaffPage() -> impl IntoView {
    let change = ServerAction::<ChangeStaffRole>::new();
    let remove = ServerAction::<RemoveStaff>::new();
    let staff = Resource::new(
        move || (change.version().get(), remove.version().get()),
        |_| list_staff(),
    );
    let me = Resource::new(|| (), |_| console_me());
    let change_error = last_error(change.value());
    let remove_error = last_error(remove.value());
    view! {
        <Title text="Staff" />
        <section class="card card-wide console">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let view = match me.await {
                        Ok(view) => view,
                        Err(error) => return view! { <Refused error /> }.into_any(),
                    };
                    let manage = view.permissions.iter().any(|p| p == "staff.manage");
                    match staff.await {
                        Ok(list) => view! {
                            <ConsoleNav view />
                            <h1>"Staff"</h1>
                            <FormError error=change_error />
                            <FormError error=remove_error />
                            <table class="console-table" id="staff">
                                <thead><tr><th>"Who"</th><th>"Role"</th><th>"Since"</th></tr></thead>
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
                                                        <label for=format!("role-{id}")>"Role"</label>
                                                        <select id=format!("role-{id}") name="role">
                                                            {["owner", "admin", "support", "auditor"].into_iter().map(|r| view! {
                                                                <option value=r selected={role == r}>{r}</option>
                                                            }).collect_view()}
                                                        </select>
                                                        <ReasonFields id=format!("change-{id}") error=change_error />
                                                        <input type="hidden" name="user_id" value=id />
                                                        <button type="submit">"Change role"</button>
                                                    </ActionForm>
                                                    <ActionForm action=remove attr:class="console-action">
                                                        <ReasonFields id=format!("remove-{remove_id}") error=remove_error />
                                                        <input type="hidden" name="user_id" value=remove_id />
                                                        <button type="submit">"Remove from staff"</button>
                                                    </ActionForm>
                                                </td></tr>
                                            })}
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

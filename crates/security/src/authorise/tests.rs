use borough_model::{GssCode, PeerIdentity, Role};

use super::*;

const LAMBETH: &str = "E09000022";
const SOUTHWARK: &str = "E09000028";

fn caller(borough: &str, role: Role) -> PeerIdentity {
    PeerIdentity {
        borough: GssCode::parse(borough).unwrap(),
        role,
        name: (role != Role::Node).then(|| role.as_str().to_string()),
    }
}

fn on_lambeth(borough: &str, role: Role, permission: Permission) -> Result<(), Denied> {
    authorise(
        &caller(borough, role),
        permission,
        GssCode::parse(LAMBETH).unwrap(),
    )
}

#[test]
fn each_permission_is_allowed_to_exactly_its_role_from_the_right_borough() {
    use Permission::*;
    use Role::*;
    // (caller's borough, caller's role, permission, allowed on Lambeth's node)
    let table = [
        (SOUTHWARK, Node, Replicate, true),
        (LAMBETH, Node, Replicate, false),
        (LAMBETH, System, Ingest, true),
        (LAMBETH, System, Erase, true),
        (SOUTHWARK, System, Ingest, false),
        (LAMBETH, Analyst, Query, true),
        (SOUTHWARK, Analyst, Query, false),
        (LAMBETH, Role::Broker, Permission::Broker, true),
        (SOUTHWARK, Role::Broker, Permission::Broker, false),
        (LAMBETH, Admin, ReadStatus, true),
        (LAMBETH, Admin, Audit, true),
        (SOUTHWARK, Admin, ReadStatus, false),
        (LAMBETH, Analyst, Replicate, false),
        (SOUTHWARK, Node, Ingest, false),
        (SOUTHWARK, Node, ReadStatus, false),
        (LAMBETH, Admin, Ingest, false),
        (LAMBETH, System, Query, false),
        (LAMBETH, Role::Broker, Audit, false),
    ];
    for (borough, role, permission, allowed) in table {
        assert_eq!(
            on_lambeth(borough, role, permission).is_ok(),
            allowed,
            "{borough} {role} {permission:?}"
        );
    }
}

#[test]
fn every_permission_has_one_role_that_may_use_it_locally_or_from_a_peer() {
    for permission in Permission::ALL {
        let from = if permission.role() == Role::Node {
            SOUTHWARK
        } else {
            LAMBETH
        };
        assert!(on_lambeth(from, permission.role(), permission).is_ok());
    }
}

#[test]
fn a_wrong_role_is_told_which_role_may() {
    let denied = on_lambeth(LAMBETH, Role::Analyst, Permission::Replicate).unwrap_err();
    assert_eq!(
        denied.to_string(),
        "E09000022/analyst/analyst: role analyst may not replicate; only node certificates may"
    );
}

#[test]
fn a_user_of_another_borough_is_told_whose_node_this_is() {
    let denied = on_lambeth(SOUTHWARK, Role::Admin, Permission::ReadStatus).unwrap_err();
    assert_eq!(
        denied.to_string(),
        "E09000028/admin/admin: a Southwark admin may not read status on Lambeth's node; \
         only Lambeth admin certificates may"
    );
}

#[test]
fn a_node_calling_its_own_borough_is_refused() {
    let denied = on_lambeth(LAMBETH, Role::Node, Permission::Replicate).unwrap_err();
    assert!(denied.reason.contains("with itself"), "{denied}");
}

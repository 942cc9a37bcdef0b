//! `audit` against moto: a fresh stack is exactly its call graph; a rule added by hand from
//! 0.0.0.0/0 and a group attached by hand to the load balancer are both found, in text, JSON and
//! mermaid, with exit 1.

mod common;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use common::{apply, unique_stack, Fixture, Moto};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_finds_a_hand_added_open_rule_and_a_hand_attached_group() {
    let moto = Moto::start();
    let stack = unique_stack("audit");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let clean = moto.run(&["audit", "-f", f.path_str()]).await;
    clean.expect_code(0);
    assert!(
        clean
            .stdout()
            .contains("paths are as declared, and there are no others")
            && clean
                .stdout()
                .contains("ok       api-gateway → user-service:3001"),
        "{}",
        clean.stdout()
    );

    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let group_id = |name: String| {
        let ec2 = ec2.clone();
        async move {
            let out = ec2
                .describe_security_groups()
                .filters(
                    Filter::builder()
                        .name("group-name")
                        .values(name.clone())
                        .build(),
                )
                .send()
                .await
                .expect("groups");
            let g = &out.security_groups()[0];
            (
                g.group_id().expect("id").to_string(),
                g.vpc_id().expect("vpc").to_string(),
            )
        }
    };
    let open = |port: i32| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build()
    };
    // A rule added by hand: the user service open to the internet.
    let (users, vpc) = group_id(format!("{stack}-user-service")).await;
    ec2.authorize_security_group_ingress()
        .group_id(&users)
        .ip_permissions(open(3001))
        .send()
        .await
        .expect("hand-added rule");
    // A group made and attached by hand to the load balancer: SSH from anywhere.
    let intruder = ec2
        .create_security_group()
        .group_name(format!("{stack}-by-hand"))
        .description("attached by hand")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("group")
        .group_id()
        .expect("id")
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&intruder)
        .ip_permissions(open(22))
        .send()
        .await
        .expect("rule");
    let lbs = elb
        .describe_load_balancers()
        .names(format!("{stack}-alb"))
        .send()
        .await
        .expect("alb");
    let alb = &lbs.load_balancers()[0];
    let mut groups = alb.security_groups().to_vec();
    groups.push(intruder.clone());
    elb.set_security_groups()
        .load_balancer_arn(alb.load_balancer_arn().expect("arn"))
        .set_security_groups(Some(groups))
        .send()
        .await
        .expect("attach");

    let found = moto.run(&["audit", "-f", f.path_str()]).await;
    found.expect_code(1);
    let text = found.stdout();
    assert!(
        text.contains("EXTRA    0.0.0.0/0 → user-service:3001  (open to the internet)")
            && text.contains("EXTRA    0.0.0.0/0 → alb (load balancer):22"),
        "{text}"
    );
    let json = moto
        .run(&["audit", "-f", f.path_str(), "--format", "json"])
        .await;
    json.expect_code(1);
    let json = json.json();
    assert_eq!(json["extra"].as_array().map(Vec::len), Some(2), "{json}");
    assert_eq!(json["missing"].as_array().map(Vec::len), Some(0), "{json}");
    let mermaid = moto
        .run(&["audit", "-f", f.path_str(), "--format", "mermaid"])
        .await;
    mermaid.expect_code(1);
    assert!(
        mermaid.stdout().starts_with("graph LR") && mermaid.stdout().contains("3001 EXTRA"),
        "{}",
        mermaid.stdout()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_of_a_stack_never_applied_is_an_error() {
    let moto = Moto::start();
    let f = Fixture::seed(&unique_stack("noaudit"));
    let out = moto.run(&["audit", "-f", f.path_str()]).await;
    out.expect_code(1);
    assert!(
        out.stderr().contains("nothing to audit"),
        "{}",
        out.stderr()
    );
}

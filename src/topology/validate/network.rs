//! `network`: VPC cidr, zones, NAT gateways and explicit subnets.

use crate::topology::checker::Checker;
use crate::topology::network::availability_zone_count;
use crate::topology::positions::ypath;
use crate::topology::types::{AvailabilityZones, NatGateways};
use ipnet::Ipv4Net;
use std::collections::HashMap;

/// AWS allows /16../28 VPCs; ecsform needs room for one public and one private /24-ish subnet
/// per zone, hence /24 at most.
const VPC_PREFIX_MIN: u8 = 16;
const VPC_PREFIX_MAX: u8 = 24;
/// AWS's smallest subnet.
const SUBNET_PREFIX_MAX: u8 = 28;
const ZONES_MAX: usize = 6;
/// An ALB must be placed in subnets of at least two zones.
const ALB_MIN_ZONES: usize = 2;

pub(super) fn check(check: &mut Checker) {
    let vpc = check_vpc_cidr(check);
    check_zones(check);
    check_nat(check);
    check_subnets(check, vpc);
}

/// Returns the VPC network when the cidr is usable, for the subnet checks.
fn check_vpc_cidr(check: &mut Checker) -> Option<Ipv4Net> {
    let cidr = check.topology.network.cidr.clone();
    let path = ypath!("network", "cidr");
    let Ok(vpc) = cidr.trim().parse::<Ipv4Net>() else {
        check.error(
            &path,
            format!("network.cidr `{cidr}` is not an IPv4 CIDR block"),
            "write it like `10.0.0.0/16`",
        );
        return None;
    };
    if vpc.trunc() != vpc {
        check.error(
            &path,
            format!("network.cidr `{cidr}` has host bits set"),
            format!("did you mean `{}`?", vpc.trunc()),
        );
        return None;
    }
    if !(VPC_PREFIX_MIN..=VPC_PREFIX_MAX).contains(&vpc.prefix_len()) {
        check.error(
            &path,
            format!(
                "network.cidr /{} is outside /{VPC_PREFIX_MIN}../{VPC_PREFIX_MAX}",
                vpc.prefix_len()
            ),
            "AWS VPCs are at most /16; ecsform needs at least a /24 to carve subnets: use e.g. `10.0.0.0/16`",
        );
        return None;
    }
    Some(vpc)
}

fn check_zones(check: &mut Checker) {
    let path = ypath!("network", "availability_zones");
    match check.topology.network.availability_zones.clone() {
        AvailabilityZones::Count(count) => {
            if !(1..=ZONES_MAX).contains(&usize::from(count)) {
                check.error(
                    &path,
                    format!("availability_zones: {count} is outside 1..{ZONES_MAX}"),
                    "use 2 or 3 zones (an ALB needs at least 2)",
                );
            }
        }
        AvailabilityZones::Names(names) => check_zone_names(check, &names),
    }
    let zones = availability_zone_count(check.topology);
    if check.topology.load_balancer.is_some() && (1..ALB_MIN_ZONES).contains(&zones) {
        check.error(
            &path,
            format!("the load balancer needs at least {ALB_MIN_ZONES} availability zones, the network has {zones}"),
            "set `availability_zones: 2`: an Application Load Balancer must span two zones",
        );
    }
}

fn check_zone_names(check: &mut Checker, names: &[String]) {
    if names.is_empty() {
        check.error(
            &ypath!("network", "availability_zones"),
            "availability_zones is an empty list",
            "list at least one zone, e.g. `[us-east-1a, us-east-1b]`, or give a count such as 2",
        );
        return;
    }
    if names.len() > ZONES_MAX {
        check.error(
            &ypath!("network", "availability_zones"),
            format!(
                "availability_zones lists {} zones, the limit is {ZONES_MAX}",
                names.len()
            ),
            "use 2 or 3 zones",
        );
    }
    let region = check.topology.region.clone();
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (index, name) in names.iter().enumerate() {
        let path = ypath!("network", "availability_zones", index);
        if let Some(first) = first_seen.get(name.as_str()) {
            let line = check.line_of(&ypath!("network", "availability_zones", *first));
            check.error(
                &path,
                format!("availability zone `{name}` is listed twice"),
                format!("remove this entry (first at line {line})"),
            );
            continue;
        }
        first_seen.insert(name, index);
        if let Some(region) = region.as_deref() {
            if !name.starts_with(region) {
                check.error(
                    &path,
                    format!("availability zone `{name}` is not in region `{region}`"),
                    format!("zone names start with the region, e.g. `{region}a`"),
                );
            }
        }
    }
}

fn check_nat(check: &mut Checker) {
    if let NatGateways::Count(count) = check.topology.network.nat_gateways {
        if count > 1 {
            check.error(
                &ypath!("network", "nat_gateways"),
                format!("nat_gateways: {count} is not supported"),
                "use 0, 1 (one shared gateway) or `per_az` (one gateway in each zone)",
            );
        }
    }
}

fn check_subnets(check: &mut Checker, vpc: Option<Ipv4Net>) {
    let network = check.topology.network.clone();
    match (&network.public_subnets, &network.private_subnets) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            let (given, missing) = if network.public_subnets.is_some() {
                ("public_subnets", "private_subnets")
            } else {
                ("private_subnets", "public_subnets")
            };
            check.error_at_key(
                &ypath!("network", given),
                format!("network.{given} is given without network.{missing}"),
                format!("add `{missing}` too, or remove `{given}` to carve both from network.cidr"),
            );
        }
        (Some(public), Some(private)) => {
            let zones = availability_zone_count(check.topology);
            check_subnet_count(check, "public_subnets", public.len(), zones);
            check_subnet_count(check, "private_subnets", private.len(), zones);
            check_subnet_blocks(check, vpc, public, private);
        }
    }
}

fn check_subnet_count(check: &mut Checker, list: &str, count: usize, zones: usize) {
    if count != zones {
        check.error(
            &ypath!("network", list),
            format!("network.{list} has {count} entries but the network spans {zones} availability zones"),
            format!("give exactly one subnet per zone ({zones})"),
        );
    }
}

fn check_subnet_blocks(
    check: &mut Checker,
    vpc: Option<Ipv4Net>,
    public: &[String],
    private: &[String],
) {
    let entries = public
        .iter()
        .enumerate()
        .map(|(index, cidr)| ("public_subnets", index, cidr))
        .chain(
            private
                .iter()
                .enumerate()
                .map(|(index, cidr)| ("private_subnets", index, cidr)),
        );
    let mut accepted: Vec<(Ipv4Net, usize)> = Vec::new();
    for (list, index, cidr) in entries {
        let path = ypath!("network", list, index);
        let Some(subnet) = check_subnet_block(check, &path, cidr, vpc) else {
            continue;
        };
        let line = check.line_of(&path);
        if let Some((other, other_line)) = accepted
            .iter()
            .find(|(other, _)| other.contains(&subnet) || subnet.contains(other))
        {
            check.error(
                &path,
                format!("subnet `{subnet}` overlaps subnet `{other}` (line {other_line})"),
                "choose blocks that do not overlap, e.g. 10.0.1.0/24 and 10.0.11.0/24",
            );
            continue;
        }
        accepted.push((subnet, line));
    }
}

/// Checks one subnet on its own; returns it when it can take part in the overlap check.
fn check_subnet_block(
    check: &mut Checker,
    path: &[crate::topology::positions::Segment],
    cidr: &str,
    vpc: Option<Ipv4Net>,
) -> Option<Ipv4Net> {
    let Ok(subnet) = cidr.trim().parse::<Ipv4Net>() else {
        check.error(
            path,
            format!("subnet `{cidr}` is not an IPv4 CIDR block"),
            "write it like `10.0.1.0/24`",
        );
        return None;
    };
    if subnet.trunc() != subnet {
        check.error(
            path,
            format!("subnet `{cidr}` has host bits set"),
            format!("did you mean `{}`?", subnet.trunc()),
        );
        return None;
    }
    if subnet.prefix_len() > SUBNET_PREFIX_MAX {
        check.error(
            path,
            format!(
                "subnet `{cidr}` is smaller than /{SUBNET_PREFIX_MAX}, the smallest AWS subnet"
            ),
            "use a /24 for each subnet",
        );
        return None;
    }
    if let Some(vpc) = vpc {
        if !vpc.contains(&subnet) {
            check.error(
                path,
                format!("subnet `{cidr}` is not inside network.cidr `{vpc}`"),
                format!("pick a block within {vpc}, e.g. `{}`", example_subnet(vpc)),
            );
            return None;
        }
    }
    Some(subnet)
}

fn example_subnet(vpc: Ipv4Net) -> String {
    let (public, _) = crate::topology::network::carve_subnets(vpc, 1);
    public
        .first()
        .map_or_else(|| vpc.to_string(), ToString::to_string)
}

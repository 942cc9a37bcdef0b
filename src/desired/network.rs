//! The network pass: VPC (DNS support and hostnames on: private DNS needs them), public and
//! private subnets per zone, internet gateway, elastic IPs and NAT gateways, route tables.

use super::{ids, Network};
use crate::model::*;
use crate::names;
use crate::topology::{self, NatGateways, NatMode, Topology};

pub(super) fn expand(d: &mut Desired, t: &Topology, region: &str) -> Network {
    let stack = t.name.as_str();
    let vpc = d.insert(
        ids::VPC,
        Resource::Vpc(Vpc {
            name: names::tag_name(stack, "vpc"),
            cidr: t.network.cidr.clone(),
            dns_support: true,
            dns_hostnames: true,
        }),
    );
    let zones = topology::availability_zone_names(t, region);
    let (public_cidrs, private_cidrs) = topology::subnet_cidrs(t);
    let mut subnets = |public: bool, cidrs: &[String]| -> Vec<ResourceId> {
        cidrs
            .iter()
            .zip(&zones)
            .enumerate()
            .map(|(i, (cidr, az))| {
                let id = ids::subnet(public, i);
                let name = names::tag_name(stack, &id);
                d.insert(
                    id,
                    Resource::Subnet(Subnet {
                        name,
                        vpc: Ref::Id(vpc.clone()),
                        cidr: cidr.clone(),
                        availability_zone: az.clone(),
                        public,
                    }),
                )
            })
            .collect()
    };
    let public_subnets = subnets(true, &public_cidrs);
    let private_subnets = subnets(false, &private_cidrs);

    let igw = d.insert(
        ids::INTERNET_GATEWAY,
        Resource::InternetGateway(InternetGateway {
            name: names::tag_name(stack, "igw"),
            vpc: Ref::Id(vpc.clone()),
        }),
    );
    d.insert(
        ids::PUBLIC_ROUTES,
        Resource::RouteTable(RouteTable {
            name: names::tag_name(stack, ids::PUBLIC_ROUTES),
            vpc: Ref::Id(vpc.clone()),
            default_route: Some(Ref::Id(igw)),
            subnets: public_subnets.iter().cloned().map(Ref::Id).collect(),
        }),
    );

    let nat_count = match t.network.nat_gateways {
        NatGateways::Count(n) => usize::from(n.min(1)),
        NatGateways::Mode(NatMode::PerAz) => public_subnets.len(),
    };
    let mut nats = Vec::new();
    for (i, subnet) in public_subnets.iter().take(nat_count).enumerate() {
        let eip = d.insert(
            ids::elastic_ip(i),
            Resource::ElasticIp(ElasticIp {
                name: names::tag_name(stack, &ids::elastic_ip(i)),
            }),
        );
        nats.push(d.insert(
            ids::nat_gateway(i),
            Resource::NatGateway(NatGateway {
                name: names::tag_name(stack, &ids::nat_gateway(i)),
                subnet: Ref::Id(subnet.clone()),
                elastic_ip: Ref::Id(eip),
                failure: None,
            }),
        ));
    }
    // One private route table per NAT gateway (per AZ), or a single one when NAT is shared or absent.
    let tables = nat_count.max(1);
    for table in 0..tables {
        let members: Vec<Ref> = private_subnets
            .iter()
            .enumerate()
            .filter(|(i, _)| tables == 1 || *i == table)
            .map(|(_, id)| Ref::Id(id.clone()))
            .collect();
        d.insert(
            ids::private_routes(table),
            Resource::RouteTable(RouteTable {
                name: names::tag_name(stack, &ids::private_routes(table)),
                vpc: Ref::Id(vpc.clone()),
                default_route: nats.get(table).cloned().map(Ref::Id),
                subnets: members,
            }),
        );
    }
    Network {
        vpc,
        private_subnets,
        public_subnets,
    }
}

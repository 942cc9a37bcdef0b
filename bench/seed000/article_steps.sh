#!/usr/bin/env bash
# The seed-000 article's own AWS CLI steps (shared/seeds/000_7c50c08bd2a8c2f0.txt, steps 1-6),
# run one command at a time, exactly as the article runs them. Where the article says
# "replace vpc-XXXXX" / "sg-users-ID" / "ns-XXXXX" / an ARN, the id is captured from the
# previous command with --query ... --output text, as a careful human would copy it.
#
# Needs: AWS_* environment pointing at the endpoint, CERT_ARN (an ACM certificate for the HTTPS
# listener, imported beforehand -- the article "assumes ACM certificate already exists").
# Differences from the article's text (none change what is created):
#   * ACCOUNT is moto's 123456789012 in the task definition files (task-def-*.json, written as
#     the article describes: api-gateway has USER/PRODUCT/ORDER_SERVICE_URL, order-service has
#     PRODUCT/NOTIFICATION_SERVICE_URL -- its callees; the other three have none).
#   * The namespace id is not in create-private-dns-namespace's answer (an OperationId is), so
#     one extra command, get-operation, reads it -- what anyone following the article must do.
#   * The multi-line --network-configuration value is written on one line.
#   * Like the article, this creates NO internet gateway, NAT gateway, elastic IP, route tables,
#     task execution role or log groups, although the article says the NAT gateway is needed.
set -euo pipefail
cd "$(dirname "$0")"
: "${CERT_ARN:?set CERT_ARN to an ACM certificate ARN}"
export AWS_PAGER=""
q() { aws "$@" --output text; }   # one command, text output (for --query captures)

# Step 1: VPC and subnets
VPC_ID=$(q ec2 create-vpc --cidr-block 10.0.0.0/16 --tag-specifications \
  'ResourceType=vpc,Tags=[{Key=Name,Value=microservices-vpc}]' --query Vpc.VpcId)
PUB_1A=$(q ec2 create-subnet --vpc-id "$VPC_ID" \
  --cidr-block 10.0.1.0/24 --availability-zone us-east-1a \
  --tag-specifications 'ResourceType=subnet,Tags=[{Key=Name,Value=public-1a}]' --query Subnet.SubnetId)
PUB_1B=$(q ec2 create-subnet --vpc-id "$VPC_ID" \
  --cidr-block 10.0.2.0/24 --availability-zone us-east-1b \
  --tag-specifications 'ResourceType=subnet,Tags=[{Key=Name,Value=public-1b}]' --query Subnet.SubnetId)
PRIV_1A=$(q ec2 create-subnet --vpc-id "$VPC_ID" \
  --cidr-block 10.0.11.0/24 --availability-zone us-east-1a \
  --tag-specifications 'ResourceType=subnet,Tags=[{Key=Name,Value=private-1a}]' --query Subnet.SubnetId)
PRIV_1B=$(q ec2 create-subnet --vpc-id "$VPC_ID" \
  --cidr-block 10.0.12.0/24 --availability-zone us-east-1b \
  --tag-specifications 'ResourceType=subnet,Tags=[{Key=Name,Value=private-1b}]' --query Subnet.SubnetId)

# Step 2: ECS cluster
aws ecs create-cluster \
  --cluster-name microservices-cluster \
  --capacity-providers FARGATE \
  --default-capacity-provider-strategy capacityProvider=FARGATE,weight=1 >/dev/null

# Step 3: Cloud Map namespace + one discovery service per internal service
OP_ID=$(q servicediscovery create-private-dns-namespace \
  --name internal \
  --vpc "$VPC_ID" \
  --description "Private namespace for microservices" --query OperationId)
NS_ID=$(q servicediscovery get-operation --operation-id "$OP_ID" --query Operation.Targets.NAMESPACE)
declare -A SRV
for svc in user-service product-service order-service notification-service; do
  SRV[$svc]=$(q servicediscovery create-service \
    --name "$svc" \
    --dns-config "NamespaceId=$NS_ID,DnsRecords=[{Type=A,TTL=10}]" \
    --health-check-custom-config FailureThreshold=1 --query Service.Arn)
done

# Step 4: security groups and the 7 ingress rules
sg() { q ec2 create-security-group --group-name "$1" --description "$2" --vpc-id "$VPC_ID" --query GroupId; }
SG_ALB=$(sg sg-alb "ALB: accept HTTPS from internet")
SG_GATEWAY=$(sg sg-gateway "api-gateway service")
SG_USERS=$(sg sg-users "user-service")
SG_PRODUCTS=$(sg sg-products "product-service")
SG_ORDERS=$(sg sg-orders "order-service")
SG_NOTIFICATIONS=$(sg sg-notifications "notification-service")

aws ec2 authorize-security-group-ingress --group-id "$SG_ALB" \
  --protocol tcp --port 443 --cidr 0.0.0.0/0 >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_GATEWAY" \
  --protocol tcp --port 3000 --source-group "$SG_ALB" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_USERS" \
  --protocol tcp --port 3001 --source-group "$SG_GATEWAY" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_PRODUCTS" \
  --protocol tcp --port 3002 --source-group "$SG_GATEWAY" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_PRODUCTS" \
  --protocol tcp --port 3002 --source-group "$SG_ORDERS" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_ORDERS" \
  --protocol tcp --port 3003 --source-group "$SG_GATEWAY" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_NOTIFICATIONS" \
  --protocol tcp --port 3004 --source-group "$SG_ORDERS" >/dev/null

# Step 5: task definitions
aws ecs register-task-definition --cli-input-json file://task-def-api-gateway.json >/dev/null
aws ecs register-task-definition --cli-input-json file://task-def-user-service.json >/dev/null
aws ecs register-task-definition --cli-input-json file://task-def-product-service.json >/dev/null
aws ecs register-task-definition --cli-input-json file://task-def-order-service.json >/dev/null
aws ecs register-task-definition --cli-input-json file://task-def-notification-service.json >/dev/null

# Step 6: internal ECS services (Cloud Map registration), then target group, ALB, HTTPS
# listener and the api-gateway service behind it.
internal() { # name sg
  aws ecs create-service \
    --cluster microservices-cluster \
    --service-name "$1" \
    --task-definition "$1:1" \
    --desired-count 2 \
    --launch-type FARGATE \
    --network-configuration "awsvpcConfiguration={subnets=[$PRIV_1A,$PRIV_1B],securityGroups=[$2],assignPublicIp=DISABLED}" \
    --service-registries "registryArn=${SRV[$1]}" >/dev/null
}
internal user-service "$SG_USERS"
internal product-service "$SG_PRODUCTS"
internal order-service "$SG_ORDERS"
internal notification-service "$SG_NOTIFICATIONS"

TG_ARN=$(q elbv2 create-target-group \
  --name tg-api-gateway \
  --protocol HTTP \
  --port 3000 \
  --vpc-id "$VPC_ID" \
  --target-type ip \
  --health-check-path /health --query 'TargetGroups[0].TargetGroupArn')
ALB_ARN=$(q elbv2 create-load-balancer \
  --name alb-microservices \
  --subnets "$PUB_1A" "$PUB_1B" \
  --security-groups "$SG_ALB" \
  --scheme internet-facing \
  --type application --query 'LoadBalancers[0].LoadBalancerArn')
aws elbv2 create-listener \
  --load-balancer-arn "$ALB_ARN" \
  --protocol HTTPS \
  --port 443 \
  --certificates "CertificateArn=$CERT_ARN" \
  --default-actions "Type=forward,TargetGroupArn=$TG_ARN" >/dev/null
aws ecs create-service \
  --cluster microservices-cluster \
  --service-name api-gateway \
  --task-definition api-gateway:1 \
  --desired-count 2 \
  --launch-type FARGATE \
  --network-configuration "awsvpcConfiguration={subnets=[$PRIV_1A,$PRIV_1B],securityGroups=[$SG_GATEWAY],assignPublicIp=DISABLED}" \
  --load-balancers "targetGroupArn=$TG_ARN,containerName=api-gateway,containerPort=3000" >/dev/null
echo "article steps done: vpc $VPC_ID namespace $NS_ID alb $ALB_ARN"

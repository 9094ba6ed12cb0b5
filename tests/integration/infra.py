"""What the infrastructure tests share: the packaged templates, and their references resolved for one stage.

`packaged` runs `make package`'s code for both stages into a scratch directory (once per test module).
`Resolver` turns the template's Ref / Fn::Sub / Fn::GetAtt into the strings CloudFormation would
produce in one made-up account, so IAM policies can be checked against concrete ARNs.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_TEMPLATE = ROOT / "infra" / "resources.yaml"
CHALICE = ROOT / ".chalice"
STAGES = ("dev", "prod")
REGION, ACCOUNT = "eu-west-1", "123456789012"
# The deploy-time parameters a deployer would give (README's deploy command).
PARAMETERS = {"PublicBaseUrl": "https://app.latchkey.example", "MailFromAddress": "no-reply@latchkey.example",
              "MailFromName": "Latchkey", "PlatformReviewerEmails": "reviewer@latchkey.example",
              "AlarmEmail": "ops@latchkey.example", "LogLevel": "INFO", "LogRetentionDays": "365",
              "SetApiGatewayLoggingRole": "yes", "BulkJobMaxReceiveCount": "5", "AppUrl": "https://my.latchkey.example"}


def decode(text: str) -> dict:
    from cfnlint.decode import decode_str

    template, errors = decode_str(text)
    assert not errors, errors
    return template


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict[str, Path]:
    """Each stage's directory as `make package` writes it (sam.yaml, deployment.zip)."""
    from scripts.package import package

    return package(list(STAGES), tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def templates(packaged) -> dict[str, dict]:
    return {stage: decode((out / "sam.yaml").read_text(encoding="utf-8")) for stage, out in packaged.items()}


def resources_of_type(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def one(template: dict, kind: str) -> tuple[str, dict]:
    found = resources_of_type(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def config() -> dict:
    return json.loads((CHALICE / "config.json").read_text(encoding="utf-8"))


def policy_file(function_name: str) -> str:
    """The IAM policy file .chalice/config.json names for a Chalice function."""
    return config()["lambda_functions"][function_name]["iam_policy_file"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


class Resolver:
    """Resolves intrinsic functions of a merged template for one stage, in a made-up account."""

    def __init__(self, template: dict, stage: str) -> None:
        self.template = template
        self.parameters = {**PARAMETERS, "Stage": stage, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                           "AWS::Partition": "aws", "AWS::StackName": f"latchkey-{stage}",
                           "AWS::URLSuffix": "amazonaws.com"}

    def __call__(self, value):
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.ref(value["Ref"])
        if set(value) == {"Fn::Sub"}:
            return self.sub(value["Fn::Sub"])
        if set(value) == {"Fn::GetAtt"}:
            name, attribute = value["Fn::GetAtt"] if isinstance(value["Fn::GetAtt"], list) \
                else value["Fn::GetAtt"].split(".", 1)
            return self.get_att(name, attribute)
        return {k: self(v) for k, v in value.items()}

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return str(self.parameters[name])
        resource = self.template["Resources"][name]
        properties, kind = resource.get("Properties", {}), resource["Type"]
        named_by = {"AWS::DynamoDB::Table": "TableName", "AWS::SES::ConfigurationSet": "Name",
                    "AWS::Logs::LogGroup": "LogGroupName", "AWS::Serverless::Function": "FunctionName"}
        if kind in named_by:
            return self(properties[named_by[kind]])
        if kind == "AWS::Cognito::UserPool":
            return f"{REGION}_Pool{self.parameters['Stage'].title()}"
        if kind == "AWS::Cognito::UserPoolClient":
            return f"client{self.parameters['Stage']}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self(properties['QueueName'])}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{self(properties['TopicName'])}"
        if kind == "AWS::S3::Bucket":  # CloudFormation names it after the stack and the logical id
            return f"latchkey-{self.parameters['Stage']}-{name.lower()}-1a2b3c4d5e6f"
        raise AssertionError(f"no resolution for Ref {name} ({kind})")

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.template["Resources"][name]
        properties, kind = resource.get("Properties", {}), resource["Type"]
        if (kind, attribute) == ("AWS::Cognito::UserPool", "Arn"):
            return f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{self.ref(name)}"
        if (kind, attribute) == ("AWS::Logs::LogGroup", "Arn"):
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{self.ref(name)}:*"
        if (kind, attribute) == ("AWS::SQS::Queue", "Arn"):
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self(properties['QueueName'])}"
        if (kind, attribute) == ("AWS::SQS::Queue", "QueueName"):
            return self(properties["QueueName"])
        if (kind, attribute) == ("AWS::DynamoDB::Table", "Arn"):
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.ref(name)}"
        if (kind, attribute) == ("AWS::S3::Bucket", "Arn"):
            return f"arn:aws:s3:::{self.ref(name)}"
        if (kind, attribute) == ("AWS::KMS::Key", "Arn"):
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}"
        raise AssertionError(f"no resolution for GetAtt {name}.{attribute} ({kind})")

    def sub(self, value) -> str:
        text, local = (value, {}) if isinstance(value, str) else (value[0], value[1])

        def replace(match):
            token = match.group(1)
            if token in local:
                return self(local[token])
            if "." in token and not token.startswith("AWS::"):
                return self.get_att(*token.split(".", 1))
            return self.ref(token)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

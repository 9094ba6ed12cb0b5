"""The deployment files agree with the code.

infra/resources.yaml lints clean and declares the table the PynamoDB model describes; the Lambda's
IAM policies (.chalice/policy-<stage>.json) grant every AWS action the adapters call, on the
resources the template and .chalice/config.json name, and nothing broader (no Scan, no wildcards).
"""
from __future__ import annotations

import ast
import fnmatch
import json
import re
from email.utils import parseaddr
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "resources.yaml"
CHALICE = ROOT / ".chalice"
STAGES = ("dev", "prod")
REGION, ACCOUNT = "REPLACE_WITH_REGION", "REPLACE_WITH_ACCOUNT_ID"

# PynamoDB (and botocore) call names -> the DynamoDB IAM action each needs. Names that also
# belong to dicts or lists (`get`, `update`, `count`) can only add actions, never hide one.
PYNAMODB_CALLS = {
    "get": "GetItem", "get_item": "GetItem", "refresh": "GetItem",
    "batch_get": "BatchGetItem", "batch_get_item": "BatchGetItem",
    "query": "Query", "count": "Query",
    "scan": "Scan",
    "save": "PutItem", "put_item": "PutItem",
    "update": "UpdateItem", "update_item": "UpdateItem",
    "delete": "DeleteItem", "delete_item": "DeleteItem",
    "condition_check": "ConditionCheckItem",
    "batch_write": "BatchWriteItem", "batch_write_item": "BatchWriteItem",
}
# Inside TransactWriteItems each entry is authorized as its item-level action.
TRANSACT_ENTRY_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                          "ConditionCheck": "ConditionCheckItem"}


# --- helpers ------------------------------------------------------------------------------------

def _template() -> dict:
    from cfnlint.decode import decode_str

    template, errors = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    assert not errors, errors
    return template


def _resources_of_type(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _one(template: dict, kind: str) -> dict:
    found = _resources_of_type(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.values()))


def _name_for_stage(value, stage: str) -> str:
    """A literal name or a `!Sub` that uses only the Stage parameter, for one stage."""
    if isinstance(value, str):
        return value
    template = value["Fn::Sub"]
    assert isinstance(template, str), value
    resolved = template.replace("${Stage}", stage)
    assert "${" not in resolved, f"{template} uses more than the Stage parameter"
    return resolved


def _config() -> dict:
    return json.loads((CHALICE / "config.json").read_text(encoding="utf-8"))


def _stage_env(stage: str) -> dict:
    config = _config()
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def _policy(stage: str) -> dict:
    return json.loads((CHALICE / f"policy-{stage}.json").read_text(encoding="utf-8"))


def _statements(policy: dict) -> list[dict]:
    statements = policy["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _grants(policy: dict, action: str, resource: str) -> bool:
    """True when an Allow statement names `action` on a resource pattern matching `resource`."""
    for statement in _statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement.get("Action", []))) and \
                any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement.get("Resource", []))):
            return True
    return False


class _Arns:
    """The ARNs of one stage's resources, as the policy files spell them (placeholders included)."""

    def __init__(self, stage: str) -> None:
        template = _template()
        env = _stage_env(stage)
        self.table_name = _name_for_stage(_one(template, "AWS::DynamoDB::Table")["Properties"]["TableName"], stage)
        self.table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.table_name}"
        self.user_pool = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{env['USER_POOL_ID']}"
        config_set = _name_for_stage(_one(template, "AWS::SES::ConfigurationSet")["Properties"]["Name"], stage)
        self.configuration_set = f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{config_set}"
        sender = parseaddr(env["MAIL_FROM"])[1]
        self.sender = sender
        self.sender_identities = [f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender.split('@')[1]}",
                                  f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}"]
        queues = _resources_of_type(template, "AWS::SQS::Queue")
        sources = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
        assert len(sources) == 2, "expected two work queues (bulk invitations, mail), each with a dead-letter queue"
        names = [_name_for_stage(q["Properties"]["QueueName"], stage) for q in sources]
        self.queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{next(n for n in names if not n.endswith('-mail'))}"
        self.mail_queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{next(n for n in names if n.endswith('-mail'))}"

    def queue_for(self, params: dict) -> str:
        """The queue an SQS call names (by URL or name): the mail queue's names end in `-mail`."""
        named = str(params.get("QueueUrl") or params.get("QueueName") or "")
        return self.mail_queue if named.endswith("-mail") else self.queue

    def index(self, name: str) -> str:
        return f"{self.table}/index/{name}"


# --- the template -------------------------------------------------------------------------------

def test_the_template_passes_cfn_lint_without_errors_or_warnings():
    from cfnlint.api import lint

    matches = lint(TEMPLATE.read_text(encoding="utf-8"), regions=["us-east-1", "eu-west-1"])
    problems = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m.rule.id[0] in "EW"]
    assert problems == []


def test_cfn_lint_would_catch_a_broken_table():
    # GIVEN the template with an impossible projection type
    from cfnlint.api import lint

    broken = TEMPLATE.read_text(encoding="utf-8").replace("ProjectionType: ALL", "ProjectionType: EVERYTHING", 1)
    # THEN the linter the first test relies on reports an error
    assert any(m.rule.id.startswith("E") for m in lint(broken, regions=["us-east-1"]))


def test_the_template_table_has_the_keys_indexes_billing_and_ttl_of_the_pynamodb_model():
    from pynamodb.attributes import TTLAttribute

    from chalicelib.adapters.dynamo.models import Item

    table = _one(_template(), "AWS::DynamoDB::Table")["Properties"]
    schema = Item._get_schema()

    def keys(key_schema):
        return {k["AttributeName"]: k["KeyType"] for k in key_schema}

    assert keys(table["KeySchema"]) == keys(schema["key_schema"])
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == \
        {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    declared = {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", [])}
    modelled = {g["index_name"]: g for g in schema["global_secondary_indexes"]}
    assert sorted(declared) == sorted(modelled) == ["gsi1", "gsi2", "gsi3"]
    for name, index in modelled.items():
        assert keys(declared[name]["KeySchema"]) == keys(index["key_schema"]), name
        assert declared[name]["Projection"]["ProjectionType"] == index["projection"]["ProjectionType"] == "ALL"
    assert not schema.get("local_secondary_indexes") and "LocalSecondaryIndexes" not in table

    assert table["BillingMode"] == Item.Meta.billing_mode == "PAY_PER_REQUEST"
    ttl_names = [a.attr_name for a in Item.get_attributes().values() if isinstance(a, TTLAttribute)]
    assert ttl_names == ["ttl"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": ttl_names[0], "Enabled": True}


def test_the_table_is_protected_against_loss():
    resource = _one(_template(), "AWS::DynamoDB::Table")
    assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resource["Properties"]["DeletionProtectionEnabled"] is True
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("stage", STAGES)
def test_the_template_names_what_the_chalice_stage_configures(stage):
    template = _template()
    env = _stage_env(stage)
    assert stage in template["Parameters"]["Stage"]["AllowedValues"]
    table = _one(template, "AWS::DynamoDB::Table")["Properties"]["TableName"]
    assert _name_for_stage(table, stage) == env["TABLE_NAME"]
    config_set = _one(template, "AWS::SES::ConfigurationSet")["Properties"]["Name"]
    assert _name_for_stage(config_set, stage) == env["SES_CONFIGURATION_SET"]
    assert _config()["stages"][stage]["iam_policy_file"] == f"policy-{stage}.json"


def _auth_flows_used_by_the_identity_adapter() -> set[str]:
    tree = ast.parse((ROOT / "chalicelib" / "adapters" / "cognito.py").read_text(encoding="utf-8"))
    return {kw.value.value for node in ast.walk(tree) if isinstance(node, ast.Call) for kw in node.keywords
            if kw.arg == "AuthFlow" and isinstance(kw.value, ast.Constant)}


def test_the_app_client_allows_exactly_the_auth_flows_the_identity_adapter_uses():
    template = _template()
    client = _one(template, "AWS::Cognito::UserPoolClient")["Properties"]
    used = _auth_flows_used_by_the_identity_adapter()
    assert used, "no AuthFlow found in chalicelib/adapters/cognito.py"
    assert set(client["ExplicitAuthFlows"]) == {f"ALLOW_{flow}" for flow in used}
    assert client["GenerateSecret"] is False  # the adapter sends no SECRET_HASH
    assert client["AccessTokenValidity"] == 60 and client["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert client["ReadAttributes"] == ["email"]


def test_the_user_pool_accepts_the_passwords_the_api_accepts_and_nobody_signs_up_by_themselves():
    from chalicelib.api import schemas

    pool = _one(_template(), "AWS::Cognito::UserPool")["Properties"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == schemas.PASSWORD["minLength"]
    # The API checks only the length: any stricter rule would fail sign-ups it let through.
    assert not any(policy.get(rule) for rule in ("RequireLowercase", "RequireUppercase", "RequireNumbers",
                                                 "RequireSymbols"))
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert {"Name": "email", "AttributeDataType": "String", "Mutable": True, "Required": False} in pool["Schema"]


def test_bounces_and_complaints_reach_the_topic_and_jobs_have_a_dead_letter_queue():
    template = _template()
    destination = _one(template, "AWS::SES::ConfigurationSetEventDestination")["Properties"]["EventDestination"]
    assert destination["Enabled"] is True
    assert sorted(destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    topics = _resources_of_type(template, "AWS::SNS::Topic")
    assert destination["SnsDestination"]["TopicARN"] == {"Ref": next(iter(topics))} and len(topics) == 1
    queues = _resources_of_type(template, "AWS::SQS::Queue")
    source = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    target = source["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert target in queues and target != next(n for n, q in queues.items() if q is source)


# --- the IAM policies ---------------------------------------------------------------------------

def _known_iam_actions() -> dict:
    import cfnlint.data.AdditionalSpecs as specs

    return json.loads((Path(specs.__file__).parent / "Policies.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_names_only_real_actions_on_named_resources(stage):
    known = _known_iam_actions()
    for statement in _statements(_policy(stage)):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        for action in _as_list(statement["Action"]):
            prefix, _, name = action.partition(":")
            assert "*" not in action and "?" not in action, f"wildcard action {action}"
            assert name.lower() in known[prefix]["Actions"], f"{action} is not an IAM action"
        for resource in _as_list(statement["Resource"]):
            assert resource != "*" and resource.startswith("arn:aws:"), resource
            assert resource.split(":")[3:5] == [REGION, ACCOUNT], f"{resource}: use the documented placeholders"


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_never_grants_a_scan(stage):
    arns = _Arns(stage)
    policy = _policy(stage)
    for resource in (arns.table, arns.index("gsi1"), arns.index("gsi2"), arns.index("gsi3")):
        assert not _grants(policy, "dynamodb:Scan", resource)
    assert not any(a.lower() in ("dynamodb:scan", "dynamodb:*", "*")
                   for s in _statements(policy) for a in _as_list(s["Action"]))


def _dynamodb_actions_in_the_code() -> dict[str, set[str]]:
    """Every DynamoDB action the code that uses PynamoDB can call, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "pynamodb" not in source and "dynamo_models" not in source:
            continue
        actions = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in PYNAMODB_CALLS:
                actions.add(PYNAMODB_CALLS[node.func.attr])
        found[str(path.relative_to(ROOT))] = actions
    return found


def test_the_code_never_scans_the_table():
    scanning = [path for path, actions in _dynamodb_actions_in_the_code().items() if "Scan" in actions]
    assert scanning == []


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_grants_every_dynamodb_action_the_code_can_call(stage):
    arns = _Arns(stage)
    policy = _policy(stage)
    by_file = _dynamodb_actions_in_the_code()
    used = set().union(*by_file.values())
    assert {"GetItem", "Query", "PutItem", "UpdateItem"} <= used, "the scan of the adapters found nothing"
    missing = sorted(a for a in used if not _grants(policy, f"dynamodb:{a}", arns.table))
    assert missing == []
    for index in ("gsi1", "gsi2", "gsi3"):
        assert _grants(policy, "dynamodb:Query", arns.index(index))
    # TransactWriteItems has no IAM action of its own: each entry needs its item-level action.
    for action in TRANSACT_ENTRY_ACTIONS.values():
        assert _grants(policy, f"dynamodb:{action}", arns.table), action


def _cognito_calls_of_the_identity_adapter() -> set[str]:
    tree = ast.parse((ROOT / "chalicelib" / "adapters" / "cognito.py").read_text(encoding="utf-8"))
    names = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Attribute)
             and node.func.value.attr == "_idp"}
    return {"".join(part.title() for part in name.split("_")) for name in names}


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_grants_every_cognito_call_of_the_identity_adapter_on_the_pool_only(stage):
    arns = _Arns(stage)
    policy = _policy(stage)
    calls = _cognito_calls_of_the_identity_adapter()
    assert "AdminInitiateAuth" in calls
    assert sorted(c for c in calls if not _grants(policy, f"cognito-idp:{c}", arns.user_pool)) == []
    assert not _grants(policy, "cognito-idp:AdminInitiateAuth", arns.user_pool.replace(
        _stage_env(stage)["USER_POOL_ID"], "some-other-pool"))


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_lets_the_stage_send_its_mail_and_use_its_queue(stage):
    arns = _Arns(stage)
    policy = _policy(stage)
    for resource in [arns.configuration_set, *arns.sender_identities]:
        assert _grants(policy, "ses:SendEmail", resource), resource
    mail_statements = [s for s in _statements(policy) if "ses:SendEmail" in _as_list(s["Action"])]
    mail_from = _stage_env(stage)["MAIL_FROM"]
    for statement in mail_statements:
        allowed = [p for c in statement.get("Condition", {}).values() for p in _as_list(c.get("ses:FromAddress", []))]
        # The condition must admit the configured sender, or every send is refused.
        assert allowed and any(fnmatch.fnmatchcase(v, p) for p in allowed for v in (mail_from, arns.sender))
    for action in ("SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
        assert _grants(policy, f"sqs:{action}", arns.queue), action
        assert _grants(policy, f"sqs:{action}", arns.mail_queue), action
    assert _grants(policy, "sqs:GetQueueUrl", arns.mail_queue)


def test_the_prod_policy_is_the_dev_policy_with_prod_names():
    dev = (CHALICE / "policy-dev.json").read_text(encoding="utf-8")
    prod = (CHALICE / "policy-prod.json").read_text(encoding="utf-8")
    assert prod.replace("latchkey-prod", "latchkey-dev").replace(
        _stage_env("prod")["USER_POOL_ID"], _stage_env("dev")["USER_POOL_ID"]) == dev
    assert "latchkey-dev" not in prod and "latchkey-prod" not in dev


# --- what a real flow calls ---------------------------------------------------------------------

class _Recorder:
    """Every AWS call made by any botocore client (PynamoDB builds its own sessions, so the handlers
    go into botocore's built-in list, which each new session registers)."""

    def __init__(self) -> None:
        import botocore.handlers

        self._handlers = botocore.handlers.BUILTIN_HANDLERS
        self._entry = ("before-parameter-build", self._on_call)
        self.calls: list[tuple[str, str, dict]] = []

    def __enter__(self) -> "_Recorder":
        self._handlers.append(self._entry)
        return self

    def __exit__(self, *exc) -> None:
        self._handlers.remove(self._entry)

    def _on_call(self, params, model, **_):
        self.calls.append((model.service_model.signing_name, model.name, dict(params)))


@pytest.fixture
def recorded_flow(monkeypatch):
    """Sign up, verify, log in, work on an account, invite, sweep, reset a password, log out, close:
    the AWS calls this made, on moto."""
    import moto

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(var, value)
    jwks = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"
    base_url = "https://latchkey.infra-test"

    from chalice.test import Client

    from chalicelib import container
    from chalicelib.adapters.provision import provision

    with moto.mock_aws():
        container.reset()
        env = provision("us-east-1", "latchkey-infra-test", "Latchkey <no-reply@latchkey.example>")
        env.update({"STAGE": "local", "PUBLIC_BASE_URL": base_url, "JWKS_URL": f"file://{jwks}",
                    "SES_CONFIGURATION_SET": "", "PLATFORM_REVIEWER_EMAILS": ""})
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        container.reset()
        import app as app_module

        try:
            # A stage .chalice/config.json does not name, so it adds no environment of its own.
            with _Recorder() as recorder, \
                    Client(app_module.app, stage_name="infra-test", project_dir=str(ROOT)) as client:
                _run_flow(client, base_url)
        finally:
            container.reset()
    return recorder.calls


def _run_flow(client, base_url: str) -> None:
    def call(method, path, body=None, token=None):
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        response = getattr(client.http, method.lower())(path, headers=headers,
                                                        body=json.dumps(body) if body is not None else None)
        return response.status_code, (json.loads(response.body) if response.body else None)

    def link(email, prefix):
        for mail in call("GET", f"/_dev/outbox?to={email}")[1]["items"]:
            for url in mail["links"]:
                if url.startswith(base_url + prefix):
                    return url.rsplit("/", 1)[1]
        raise AssertionError(f"no {prefix} link for {email}")

    email, password = "owner@example.com", "correct horse battery"
    assert call("POST", "/auth/signup", {"email": email, "password": password, "first_name": "Ada",
                                         "last_name": "Lovelace"})[0] == 202
    assert call("POST", "/auth/verify-email", {"token": link(email, "/verify/")})[0] == 200
    status, tokens = call("POST", "/auth/login", {"email": email, "password": password})
    assert status == 200, tokens
    token = tokens["access_token"]
    status, account = call("POST", "/accounts", {"name": "Household", "type": "business"}, token)
    assert status == 201, account
    path = f"/accounts/{account['account_id']}"
    for route in ("/me", path, f"{path}/permissions", f"{path}/permissions/money.withdraw", f"{path}/members",
                  f"{path}/audit"):
        assert call("GET", route, token=token)[0] == 200, route
    assert call("PATCH", path, {"name": "Home", "business_info": {"timezone": "UTC"}}, token)[0] == 200
    # Invitations and the sweep are still growing: their calls are recorded whatever they answer.
    call("POST", f"{path}/invitations", {"email": "friend@example.com", "role": "collaborator"}, token)
    call("GET", f"{path}/invitations", token=token)
    call("POST", "/_dev/jobs/expire-invitations")
    assert call("POST", "/auth/password/forgot", {"email": email})[0] == 202
    assert call("POST", "/auth/password/reset", {"token": link(email, "/reset/"), "password": "another one!"})[0] == 200
    status, tokens = call("POST", "/auth/login", {"email": email, "password": "another one!"})
    assert status == 200, tokens
    assert call("POST", "/auth/refresh", {"refresh_token": tokens["refresh_token"]})[0] == 200
    assert call("DELETE", path, token=tokens["access_token"])[0] == 204
    assert call("POST", "/auth/logout", token=tokens["access_token"])[0] == 204


def _required_permissions(service: str, operation: str, params: dict, arns: _Arns) -> list[tuple[str, str]]:
    """The (IAM action, resource) pairs one API call needs, in the given stage's names."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [(f"dynamodb:{TRANSACT_ENTRY_ACTIONS[kind]}", arns.table)
                    for entry in params["TransactItems"] for kind in entry]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", arns.table) for _ in params["TransactItems"]]
        resource = arns.index(params["IndexName"]) if params.get("IndexName") else arns.table
        return [(f"dynamodb:{operation}", resource)]
    if service == "cognito-idp":
        return [(f"cognito-idp:{operation}", arns.user_pool)]
    if service == "ses":
        identity = arns.sender_identities[0]
        needs = [(f"ses:{operation}", identity)]
        if params.get("ConfigurationSetName"):
            needs.append((f"ses:{operation}", arns.configuration_set))
        return needs
    if service == "sqs":
        return [(f"sqs:{operation}", arns.queue_for(params))]
    return [(f"{service}:{operation}", "(no resource in this stack)")]


def test_a_real_flow_makes_only_calls_the_policies_allow(recorded_flow):
    seen = {(service, operation) for service, operation, _ in recorded_flow}
    # The recorder works: the flow's reads, transactions, sign-in and mail were all seen.
    assert {("dynamodb", "GetItem"), ("dynamodb", "Query"), ("dynamodb", "TransactWriteItems"),
            ("cognito-idp", "AdminInitiateAuth"), ("ses", "SendEmail")} <= seen
    assert ("dynamodb", "Scan") not in seen
    for stage in STAGES:
        arns, policy = _Arns(stage), _policy(stage)
        refused = sorted({f"{action} on {resource}"
                          for service, operation, params in recorded_flow
                          for action, resource in _required_permissions(service, operation, params, arns)
                          if not _grants(policy, action, resource)})
        assert refused == [], f"policy-{stage}.json refuses what the code does"


def test_placeholders_are_the_ones_the_readme_tells_deployers_to_replace():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    placeholders = set()
    for stage in STAGES:
        placeholders |= set(re.findall(r"REPLACE_WITH_[A-Z_]+", (CHALICE / f"policy-{stage}.json").read_text()))
    assert placeholders, "the policies carry no placeholders"
    assert sorted(p for p in placeholders if p not in readme) == []


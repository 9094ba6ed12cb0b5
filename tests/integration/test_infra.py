"""The deployment files agree with the code.

`make package`'s merged template lints clean for both stages, declares the table the PynamoDB model
describes and wires every function's environment to the resources it creates; each function's IAM
policy (.chalice/policy-<function>.json) grants every AWS action that function's code calls, on the
resources the template names, and nothing broader (no Scan, no wildcards, no other function's rights).
"""
from __future__ import annotations

import ast
import fnmatch
import json
import re
from pathlib import Path

import pytest

from tests.integration.infra import (ACCOUNT, CHALICE, PARAMETERS, REGION, ROOT, SOURCE_TEMPLATE, STAGES, Resolver,
                                     as_list, config, decode, one, packaged, policy_file, resources_of_type,
                                     templates)

__all__ = ["packaged", "templates"]  # fixtures

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
# Chalice's function names (config.json `lambda_functions`) -> their logical ids in the template.
FUNCTIONS = {"api_handler": "APIHandler", "expire-invitations": "ExpireInvitations",
             "bulk-invitations": "BulkInvitations", "mail-events": "MailEvents", "deliver-mail": "DeliverMail"}


# --- helpers ------------------------------------------------------------------------------------

def _template() -> dict:
    """infra/resources.yaml itself (the merge template)."""
    return decode(SOURCE_TEMPLATE.read_text(encoding="utf-8"))


def _one(template: dict, kind: str) -> dict:
    return one(template, kind)[1]


def _name_for_stage(value, stage: str) -> str:
    """A literal name or a `!Sub` that uses only the Stage parameter, for one stage."""
    if isinstance(value, str):
        return value
    template = value["Fn::Sub"]
    assert isinstance(template, str), value
    resolved = template.replace("${Stage}", stage)
    assert "${" not in resolved, f"{template} uses more than the Stage parameter"
    return resolved


def _policy(templates: dict, stage: str, function: str) -> dict:
    """A function's policy as CloudFormation would deploy it in one stage (references resolved)."""
    document = json.loads((CHALICE / policy_file(function)).read_text(encoding="utf-8"))
    return Resolver(templates[stage], stage)(document)


def _statements(policy: dict) -> list[dict]:
    return as_list(policy["Statement"])


def _grants(policy: dict, action: str, resource: str) -> bool:
    """True when an Allow statement names `action` on a resource pattern matching `resource`."""
    for statement in _statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in as_list(statement.get("Action", []))) and \
                any(fnmatch.fnmatchcase(resource, r) for r in as_list(statement.get("Resource", []))):
            return True
    return False


def _granted_services(policy: dict) -> set[str]:
    return {a.split(":")[0] for s in _statements(policy) for a in as_list(s["Action"])}


class _Arns:
    """The ARNs of one stage's resources, in the made-up account the resolver uses."""

    def __init__(self, templates: dict, stage: str) -> None:
        template = templates[stage]
        resolve = Resolver(template, stage)
        self.table_name = resolve.ref(one(template, "AWS::DynamoDB::Table")[0])
        self.table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.table_name}"
        self.user_pool = resolve.get_att(one(template, "AWS::Cognito::UserPool")[0], "Arn")
        config_set = resolve.ref(one(template, "AWS::SES::ConfigurationSet")[0])
        self.configuration_set = f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{config_set}"
        self.sender = PARAMETERS["MailFromAddress"]
        self.mail_from = f"{PARAMETERS['MailFromName']} <{self.sender}>"
        self.sender_identities = [f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{self.sender.split('@')[1]}",
                                  f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{self.sender}"]
        queues = resources_of_type(template, "AWS::SQS::Queue")
        sources = [name for name, q in queues.items() if "RedrivePolicy" in q["Properties"]]
        assert sorted(sources) == ["BulkInvitationsQueue", "MailQueue"], "two work queues, each with a dead-letter queue"
        self.queue = resolve.get_att("BulkInvitationsQueue", "Arn")
        self.mail_queue = resolve.get_att("MailQueue", "Arn")
        self.failed_jobs = resolve.get_att("FailedJobsQueue", "Arn")
        self.bucket = resolve.get_att("ExportsBucket", "Arn")
        self.log_group = {f: resolve.get_att(template["Resources"][logical]["Properties"]["LoggingConfig"]
                                             ["LogGroup"]["Ref"], "Arn") for f, logical in FUNCTIONS.items()}

    def queue_for(self, params: dict) -> str:
        """The queue an SQS call names (by URL or name): the mail queue's names end in `-mail`."""
        named = str(params.get("QueueUrl") or params.get("QueueName") or "")
        return self.mail_queue if named.endswith("-mail") else self.queue

    def index(self, name: str) -> str:
        return f"{self.table}/index/{name}"


# --- the packaged template ----------------------------------------------------------------------

@pytest.mark.parametrize("stage", STAGES)
def test_the_packaged_template_passes_cfn_lint_without_errors_or_warnings(packaged, stage):
    from cfnlint.api import lint

    matches = lint((packaged[stage] / "sam.yaml").read_text(encoding="utf-8"), regions=["us-east-1", "eu-west-1"])
    problems = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m.rule.id[0] in "EW"]
    assert problems == []


def test_cfn_lint_would_catch_a_broken_table(packaged):
    # GIVEN the packaged template with an impossible projection type
    from cfnlint.api import lint

    text = (packaged["dev"] / "sam.yaml").read_text(encoding="utf-8")
    assert "ProjectionType: ALL" in text
    broken = text.replace("ProjectionType: ALL", "ProjectionType: EVERYTHING", 1)
    # THEN the linter the first test relies on reports an error
    assert any(m.rule.id.startswith("E") for m in lint(broken, regions=["us-east-1"]))


@pytest.mark.parametrize("stage", STAGES)
def test_the_template_deploys_only_its_own_stage_and_carries_no_placeholder(packaged, templates, stage):
    text = (packaged[stage] / "sam.yaml").read_text(encoding="utf-8")
    assert "REPLACE_WITH" not in text
    assert templates[stage]["Parameters"]["Stage"]["AllowedValues"] == [stage]
    assert templates[stage]["Parameters"]["Stage"]["Default"] == stage
    for path in CHALICE.glob("*.json"):
        assert "REPLACE_WITH" not in path.read_text(encoding="utf-8"), path.name


def _settings_the_code_reads() -> set[str]:
    tree = ast.parse((ROOT / "chalicelib" / "config.py").read_text(encoding="utf-8"))
    return {node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


# Settings a stage sets that config.py does not read (none: every variable is wired to something).
PENDING_SETTINGS: set[str] = set()


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_gets_the_stage_resources_and_parameters_in_its_environment(templates, stage):
    template = templates[stage]
    resolve = Resolver(template, stage)
    read = _settings_the_code_reads()
    assert {"TABLE_NAME", "USER_POOL_ID", "MAIL_FROM", "PUBLIC_BASE_URL"} <= read, "config.py scan found nothing"
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert set(functions) == set(FUNCTIONS.values())
    for name, function in functions.items():
        env = function["Properties"]["Environment"]["Variables"]
        # Wired to what this stack creates, never copied by hand.
        assert env["TABLE_NAME"] == {"Ref": "Table"}, name
        assert env["USER_POOL_ID"] == {"Ref": "UserPool"}, name
        assert env["USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}, name
        assert env["SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}, name
        assert env["BULK_INVITATIONS_QUEUE_URL"] == {"Ref": "BulkInvitationsQueue"}, name
        assert env["EXPORT_BUCKET"] == {"Ref": "ExportsBucket"}, name
        resolved = resolve(env)
        assert resolved["STAGE"] == stage
        assert resolved["MAIL_FROM"] == f"{PARAMETERS['MailFromName']} <{PARAMETERS['MailFromAddress']}>"
        assert resolved["PUBLIC_BASE_URL"] == PARAMETERS["PublicBaseUrl"]
        assert resolved["APP_URL"] == PARAMETERS["AppUrl"]
        assert resolved["PLATFORM_REVIEWER_EMAILS"] == PARAMETERS["PlatformReviewerEmails"]
        assert sorted(set(env) - read - PENDING_SETTINGS) == [], f"{name} sets what the code never reads"
        missing = {"STAGE", "TABLE_NAME", "USER_POOL_ID", "USER_POOL_CLIENT_ID", "MAIL_FROM", "SES_CONFIGURATION_SET",
                   "PUBLIC_BASE_URL", "PLATFORM_REVIEWER_EMAILS"} - set(env)
        assert missing == set(), name


def test_the_deploy_parameters_without_a_default_are_the_ones_the_readme_deploy_command_gives(templates):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    required = sorted(n for n, p in templates["dev"]["Parameters"].items() if "Default" not in p)
    assert required == ["MailFromAddress", "PublicBaseUrl"]
    for name in required + ["PlatformReviewerEmails", "AlarmEmail"]:
        assert re.search(rf"\b{name}=", readme), f"README's deploy command does not set {name}"


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


def test_the_local_stage_table_follows_the_template_naming():
    local_env = config()["stages"]["local"]["environment_variables"]
    assert _name_for_stage(_one(_template(), "AWS::DynamoDB::Table")["Properties"]["TableName"], "local") == \
        local_env["TABLE_NAME"]


def test_users_may_add_an_authenticator_app_and_nobody_is_sent_an_sms():
    pool = _one(_template(), "AWS::Cognito::UserPool")["Properties"]
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "SmsConfiguration" not in pool


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


def test_bounces_and_complaints_reach_the_encrypted_topic_and_jobs_have_a_dead_letter_queue():
    template = _template()
    destination = _one(template, "AWS::SES::ConfigurationSetEventDestination")["Properties"]["EventDestination"]
    assert destination["Enabled"] is True
    assert sorted(destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    topic = destination["SnsDestination"]["TopicARN"]["Ref"]
    assert template["Resources"][topic]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["OperationsKey", "Arn"]}
    queues = resources_of_type(template, "AWS::SQS::Queue")
    source = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    target = source["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert target in queues and target != next(n for n, q in queues.items() if q is source)


# --- the IAM policies, one per function ----------------------------------------------------------

def _known_iam_actions() -> dict:
    import cfnlint.data.AdditionalSpecs as specs

    return json.loads((Path(specs.__file__).parent / "Policies.json").read_text(encoding="utf-8"))


def test_every_function_the_app_defines_has_its_own_policy_file():
    import app as app_module

    names = {"api_handler"} | {source.name for source in app_module.app.event_sources}
    assert names == set(FUNCTIONS)
    files = {name: policy_file(name) for name in names}
    assert len(set(files.values())) == len(files), "two functions share one policy"
    for name, file in files.items():
        assert (CHALICE / file).is_file(), file
    for stage in ("dev", "prod"):
        assert "iam_policy_file" not in config()["stages"][stage], "a stage-wide policy would cover every function"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_policy_names_only_real_actions_on_resources_of_the_stack(templates, function):
    known = _known_iam_actions()
    raw = json.loads((CHALICE / policy_file(function)).read_text(encoding="utf-8"))
    for statement in _statements(raw):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            prefix, _, name = action.partition(":")
            assert "*" not in action and "?" not in action, f"wildcard action {action}"
            assert name.lower() in known[prefix]["Actions"], f"{action} is not an IAM action"
        if _account_level(statement, known):
            continue
        for resource in as_list(statement["Resource"]):
            # Written against the stack (its resources, region and account), never a literal ARN.
            assert isinstance(resource, dict) and set(resource) <= {"Fn::Sub", "Fn::GetAtt"}, resource
            if "Fn::Sub" in resource and not resource["Fn::Sub"].startswith("${ExportsBucket.Arn}/"):
                assert resource["Fn::Sub"].startswith("arn:${AWS::Partition}:"), resource
                assert ":${AWS::Region}:${AWS::AccountId}:" in resource["Fn::Sub"], resource
    for stage in STAGES:
        for statement in _statements(_policy(templates, stage, function)):
            if _account_level(statement, known):
                continue
            for resource in as_list(statement["Resource"]):
                if resource.startswith("arn:aws:s3:::"):  # S3 ARNs name no region or account: the stack's bucket
                    assert resource.startswith(f"arn:aws:s3:::latchkey-{stage}-exportsbucket-"), resource
                    continue
                assert resource != "*" and resource.split(":")[3:5] == [REGION, ACCOUNT], resource


def _account_level(statement: dict, known: dict) -> bool:
    """A statement on `*` whose every action has no resource type in IAM (reading an account's own quota)."""
    if as_list(statement["Resource"]) != ["*"]:
        return False
    actions = [a.partition(":") for a in as_list(statement["Action"])]
    assert all(not known[prefix]["Actions"][name.lower()].get("Resources") for prefix, _, name in actions), \
        f"{statement['Action']} on * names an action that has resources of its own"
    return True


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_policy_grants_a_scan(templates, function):
    for stage in STAGES:
        arns = _Arns(templates, stage)
        policy = _policy(templates, stage, function)
        for resource in (arns.table, arns.index("gsi1"), arns.index("gsi2"), arns.index("gsi3")):
            assert not _grants(policy, "dynamodb:Scan", resource)
        assert not any(a.lower() in ("dynamodb:scan", "dynamodb:*", "*")
                       for s in _statements(policy) for a in as_list(s["Action"]))


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
def test_the_api_policy_grants_every_dynamodb_action_the_code_can_call(templates, stage):
    arns = _Arns(templates, stage)
    policy = _policy(templates, stage, "api_handler")
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
    granted = {a.split(":")[1] for s in _statements(policy) for a in as_list(s["Action"]) if a.startswith("dynamodb:")}
    assert granted == used | set(TRANSACT_ENTRY_ACTIONS.values()), "the policy grants what no code calls"


# Made with the signed-in user's own access token: Cognito authorizes them by that token and evaluates no IAM
# policy ("Amazon Cognito doesn't evaluate IAM policies in requests for this API operation").
TOKEN_AUTHORIZED = {"AssociateSoftwareToken", "VerifySoftwareToken"}


def _cognito_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("cognito-idp")


def _cognito_calls_of_the_identity_adapter() -> set[str]:
    from botocore import xform_name

    tree = ast.parse((ROOT / "chalicelib" / "adapters" / "cognito.py").read_text(encoding="utf-8"))
    names = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Attribute)
             and node.func.value.attr == "_idp"}
    operations = {xform_name(op): op for op in _cognito_model().operation_names}
    assert names <= set(operations), f"not Cognito operations: {sorted(names - set(operations))}"
    return {operations[name] for name in names}


def test_the_calls_left_out_of_the_policy_are_the_ones_authorized_by_the_users_token():
    calls = _cognito_calls_of_the_identity_adapter()
    assert TOKEN_AUTHORIZED <= calls
    model = _cognito_model()
    for operation in TOKEN_AUTHORIZED:
        members = model.operation_model(operation).input_shape.members
        assert "AccessToken" in members and "UserPoolId" not in members, operation


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_policy_grants_every_cognito_call_of_the_identity_adapter_on_the_pool_only(templates, stage):
    arns = _Arns(templates, stage)
    policy = _policy(templates, stage, "api_handler")
    calls = _cognito_calls_of_the_identity_adapter() - TOKEN_AUTHORIZED
    assert {"AdminInitiateAuth", "AdminRespondToAuthChallenge", "AdminSetUserMFAPreference"} <= calls
    assert sorted(c for c in calls if not _grants(policy, f"cognito-idp:{c}", arns.user_pool)) == []
    granted = {a.split(":")[1] for s in _statements(policy) for a in as_list(s["Action"]) if a.startswith("cognito")}
    assert granted == calls, "the policy grants Cognito calls the adapter never makes"
    assert not _grants(policy, "cognito-idp:AdminInitiateAuth", arns.user_pool.rsplit("/", 1)[0] + "/other-pool")


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_policy_lets_the_stage_send_its_mail_from_its_sender_only(templates, stage):
    arns = _Arns(templates, stage)
    policy = _policy(templates, stage, "api_handler")
    for resource in [arns.configuration_set, *arns.sender_identities]:
        assert _grants(policy, "ses:SendEmail", resource), resource
    mail_statements = [s for s in _statements(policy) if "ses:SendEmail" in as_list(s["Action"])]
    assert mail_statements
    for statement in mail_statements:
        allowed = [p for c in statement.get("Condition", {}).values() for p in as_list(c.get("ses:FromAddress", []))]
        # The condition must admit the configured sender, or every send is refused; and no one else.
        assert allowed and any(fnmatch.fnmatchcase(v, p) for p in allowed for v in (arns.mail_from, arns.sender))
        assert not any(fnmatch.fnmatchcase(v, p) for p in allowed
                       for v in ("someone@elsewhere.example", "Latchkey <someone@elsewhere.example>"))
    for action in ("SendMessage", "GetQueueUrl"):
        assert _grants(policy, f"sqs:{action}", arns.mail_queue), action
    assert _grants(policy, "sqs:SendMessage", arns.queue)


@pytest.mark.parametrize("stage", STAGES)
def test_each_function_writes_only_its_own_log_group(templates, stage):
    arns = _Arns(templates, stage)
    for function in FUNCTIONS:
        policy = _policy(templates, stage, function)
        for other, log_group in arns.log_group.items():
            stream = log_group[:-1] + "2026/01/01/[$LATEST]abc"
            assert _grants(policy, "logs:PutLogEvents", stream) is (other == function), (function, other)
        # The log groups come from the template (with retention): a function may not create its own.
        assert not any("logs:CreateLogGroup" in as_list(s["Action"]) for s in _statements(policy))


@pytest.mark.parametrize("stage", STAGES)
def test_the_sweep_may_touch_only_the_table_and_its_failure_queue(templates, stage):
    arns = _Arns(templates, stage)
    policy = _policy(templates, stage, "expire-invitations")
    assert _granted_services(policy) == {"dynamodb", "sqs", "logs"}
    assert [a for s in _statements(policy) for a in as_list(s["Action"]) if a.startswith("sqs:")] == ["sqs:SendMessage"]
    assert _grants(policy, "sqs:SendMessage", arns.failed_jobs)
    assert not _grants(policy, "sqs:SendMessage", arns.queue)


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


# --- what a real flow calls ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def recorded_calls():
    """Sign up, verify, log in, work on an account, invite, reset a password, log out, close (the API
    function), then one run of the hourly sweep with an invitation due (its own function): the AWS
    calls each made, on moto."""
    import os

    import moto

    saved = dict(os.environ)
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
    jwks = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"
    base_url = "https://latchkey.infra-test"

    from chalice.test import Client

    from chalicelib import container
    from chalicelib.adapters.provision import provision

    try:
        with moto.mock_aws():
            container.reset()
            env = provision("us-east-1", "latchkey-infra-test", "Latchkey <no-reply@latchkey.example>")
            env.update({"STAGE": "local", "PUBLIC_BASE_URL": base_url, "JWKS_URL": f"file://{jwks}",
                        "SES_CONFIGURATION_SET": "", "PLATFORM_REVIEWER_EMAILS": ""})
            os.environ.update(env)
            container.reset()
            import app as app_module

            # A stage .chalice/config.json does not name, so it adds no environment of its own.
            with Client(app_module.app, stage_name="infra-test", project_dir=str(ROOT)) as client:
                import boto3

                sqs = boto3.client("sqs", region_name="us-east-1")
                # One recorder for all: botocore sessions built during the flow are reused by the others.
                with _Recorder() as recorder:
                    calls = {}
                    mark = 0

                    def segment(function):
                        nonlocal mark
                        calls[function] = recorder.calls[mark:]
                        mark = len(recorder.calls)

                    _run_flow(client, base_url)
                    segment("api_handler")
                    # The local stage's /_dev/outbox sends the queued identity mail itself (deliver-mail's work, by
                    # the same code); a deployed API never receives from the mail queue.
                    calls["api_handler"] = [c for c in calls["api_handler"] if not (
                        c[0] == "sqs" and c[1] in ("ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                                                   "GetQueueAttributes")
                        and str(c[2].get("QueueUrl", "")).endswith("-mail"))]
                    job = {"job": "forgot", "email": "owner@example.com"}
                    client.lambda_.invoke("deliver-mail", client.events.generate_sqs_event(
                        message_bodies=[json.dumps(job)], queue_name=env["MAIL_QUEUE"]))
                    segment("deliver-mail")
                    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                            detail={}, resources=[])
                    result = client.lambda_.invoke("expire-invitations", event).payload
                    segment("expire-invitations")
                    queued = sqs.receive_message(QueueUrl=env["BULK_INVITATIONS_QUEUE_URL"], MaxNumberOfMessages=10)
                    mark = len(recorder.calls)  # receiving the message to hand over is Lambda's, not the worker's
                    bodies = [m["Body"] for m in queued.get("Messages", [])]
                    assert bodies, "the flow queued a bulk job"
                    worked = client.lambda_.invoke("bulk-invitations", client.events.generate_sqs_event(
                        message_bodies=bodies, queue_name="latchkey-bulk-invitations")).payload
                    segment("bulk-invitations")
                    bounce = {"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [
                        {"emailAddress": "client-owner@example.com"}]}}
                    client.lambda_.invoke("mail-events", client.events.generate_sns_event(message=json.dumps(bounce)))
                    segment("mail-events")
    finally:
        container.reset()
        os.environ.clear()
        os.environ.update(saved)
    assert result["expired"] >= 1, result  # the sweep had work to do
    assert worked == {"batchItemFailures": []}, worked  # the worker did its message
    return calls


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

    def signed_in(email, password="correct horse battery"):
        assert call("POST", "/auth/signup", {"email": email, "password": password, "first_name": "Ada",
                                             "last_name": "Lovelace"})[0] == 202
        assert call("POST", "/auth/verify-email", {"token": link(email, "/verify/")})[0] == 200
        status, tokens = call("POST", "/auth/login", {"email": email, "password": password})
        assert status == 200, tokens
        return tokens["access_token"]

    email = "owner@example.com"
    token = signed_in(email)
    status, account = call("POST", "/accounts", {"name": "Household", "type": "business"}, token)
    assert status == 201, account
    path = f"/accounts/{account['account_id']}"
    for route in ("/me", path, f"{path}/permissions", f"{path}/permissions/money.withdraw", f"{path}/members",
                  f"{path}/audit"):
        assert call("GET", route, token=token)[0] == 200, route
    assert call("PATCH", path, {"name": "Home", "business_info": {"timezone": "UTC"}}, token)[0] == 200
    # Invitations are still growing: their calls are recorded whatever they answer.
    call("POST", f"{path}/invitations", {"email": "friend@example.com", "role": "collaborator"}, token)
    call("GET", f"{path}/invitations", token=token)
    assert call("POST", "/auth/password/forgot", {"email": email})[0] == 202
    assert call("POST", "/auth/password/reset", {"token": link(email, "/reset/"), "password": "another one!"})[0] == 200
    status, tokens = call("POST", "/auth/login", {"email": email, "password": "another one!"})
    assert status == 200, tokens
    assert call("POST", "/auth/refresh", {"refresh_token": tokens["refresh_token"]})[0] == 200
    assert call("DELETE", path, token=tokens["access_token"])[0] == 204
    assert call("POST", "/auth/logout", token=tokens["access_token"])[0] == 204
    # Work for the sweep: an invitation of another account that is due once the clock moves on.
    other = signed_in("second-owner@example.com")
    # A firm's admin needs an authenticator app, and then signs in with its code.
    from tests.totp import fresh_code

    status, started = call("POST", "/me/mfa/totp", token=other)
    assert status == 200, started
    status, confirmed = call("POST", "/me/mfa/totp/verify", {"code": fresh_code(started["secret"])}, other)
    assert status == 200, confirmed
    status, pending = call("POST", "/auth/login", {"email": "second-owner@example.com",
                                                   "password": "correct horse battery"})
    assert status == 202, pending
    status, tokens = call("POST", "/auth/login/totp", {"session": pending["session"],
                                                       "code": fresh_code(started["secret"])})
    assert status == 200, tokens
    other = tokens["access_token"]
    status, second = call("POST", "/accounts", {"name": "Second", "type": "personal"}, other)
    assert status == 201, second
    status, invitation = call("POST", f"/accounts/{second['account_id']}/invitations",
                              {"email": "late@example.com", "role": "collaborator", "expires_in_days": 1}, other)
    assert status == 201, invitation
    # A firm, a client, a bulk job for it (the worker's message), the client list and its CSV.
    status, firm = call("POST", "/partners", {"name": "Firm"}, other)
    assert status == 201, firm
    status, created = call("POST", f"/partners/{firm['partner_id']}/clients", {
        "name": "Client", "plan": "pro", "owners": [{"email": "client-owner@example.com"}]}, other)
    assert status == 201, created
    assert call("POST", f"/partners/{firm['partner_id']}/invitations/bulk", {"client_ids": [created["client_id"]]},
                other)[0] == 202
    assert call("GET", f"/partners/{firm['partner_id']}/clients", token=other)[0] == 200
    assert call("POST", "/_dev/clock", {"advance_seconds": 2 * 86400})[0] == 200


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
        return [] if operation in TOKEN_AUTHORIZED else [(f"cognito-idp:{operation}", arns.user_pool)]
    if service == "ses":
        identity = arns.sender_identities[0]
        needs = [(f"ses:{operation}", identity)]
        if params.get("ConfigurationSetName"):
            needs.append((f"ses:{operation}", arns.configuration_set))
        return needs
    if service == "sqs":
        # The batch calls are authorized as their single-message actions.
        return [(f"sqs:{operation.replace('Batch', '')}", arns.queue_for(params))]
    if service == "ses" and operation in ("GetAccount", "GetSendQuota"):
        return [(f"ses:{operation}", "*")]
    if service == "s3":
        return [(f"s3:{operation}", f"{arns.bucket}/{params.get('Key', '')}")]
    return [(f"{service}:{operation}", "(no resource in this stack)")]


def test_the_recorder_saw_the_flow(recorded_calls):
    seen = {(service, operation) for service, operation, _ in recorded_calls["api_handler"]}
    # The flow's reads, transactions, sign-in and mail were all seen; the sweep's work too.
    assert {("dynamodb", "GetItem"), ("dynamodb", "Query"), ("dynamodb", "TransactWriteItems"),
            ("cognito-idp", "AdminInitiateAuth"), ("ses", "SendEmail"), ("cognito-idp", "AssociateSoftwareToken"),
            ("cognito-idp", "VerifySoftwareToken"), ("cognito-idp", "AdminSetUserMFAPreference"),
            ("cognito-idp", "AdminRespondToAuthChallenge")} <= seen
    swept = {(service, operation) for service, operation, _ in recorded_calls["expire-invitations"]}
    assert ("dynamodb", "Query") in swept and ("dynamodb", "TransactWriteItems") in swept


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_real_run_makes_only_calls_the_function_policy_allows(templates, recorded_calls, function):
    calls = recorded_calls[function]
    assert ("dynamodb", "Scan") not in {(s, o) for s, o, _ in calls}
    for stage in STAGES:
        arns, policy = _Arns(templates, stage), _policy(templates, stage, function)
        refused = sorted({f"{action} on {resource}"
                          for service, operation, params in calls
                          for action, resource in _required_permissions(service, operation, params, arns)
                          if not _grants(policy, action, resource)})
        assert refused == [], f"{policy_file(function)} refuses what the code does in {stage}"


def test_the_sweep_calls_only_dynamodb_and_its_policy_grants_no_more_than_its_run_needs(templates, recorded_calls):
    calls = recorded_calls["expire-invitations"]
    assert {service for service, _, _ in calls} == {"dynamodb"}
    arns = _Arns(templates, "prod")
    needed = {pair for service, operation, params in calls
              for pair in _required_permissions(service, operation, params, arns)}
    policy = _policy(templates, "prod", "expire-invitations")
    granted = {(action, resource) for s in _statements(policy) for action in as_list(s["Action"])
               for resource in as_list(s["Resource"]) if action.startswith("dynamodb:")}
    unused = sorted(f"{action} on {resource}" for action, resource in granted
                    if not any(a == action and fnmatch.fnmatchcase(r, resource) for a, r in needed))
    assert unused == []

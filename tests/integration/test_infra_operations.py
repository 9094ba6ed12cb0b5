"""What an operator gets from the packaged template: API Gateway's own errors in the API's envelope,
JSON logs with retention, tracing, alarms on what needs a person, and a code package that fits.
"""
from __future__ import annotations

import json
import zipfile

import pytest

from tests.integration.infra import STAGES, Resolver, as_list, config, one, packaged, resources_of_type, templates

__all__ = ["packaged", "templates"]  # fixtures

# Codes the gateway may answer that the application's own table does not have.
GATEWAY_ONLY_CODES = {"bad_request": None, "request_too_large": 413, "timeout": 504}
EXPECTED = {  # response type -> (status, code) an API client sees
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),
    "RESOURCE_NOT_FOUND": ("404", "not_found"),
    "THROTTLED": ("429", "rate_limited"),
    "QUOTA_EXCEEDED": ("429", "rate_limited"),
    "REQUEST_TOO_LARGE": ("413", "request_too_large"),
    "INTEGRATION_TIMEOUT": ("504", "timeout"),
    "UNAUTHORIZED": ("401", "unauthenticated"),
    "ACCESS_DENIED": ("403", "forbidden"),
    "UNSUPPORTED_MEDIA_TYPE": ("415", "unsupported_media_type"),
    "BAD_REQUEST_BODY": ("400", "validation_error"),
    "DEFAULT_5XX": (None, "internal_error"),
}


def _api(template: dict) -> dict:
    return template["Resources"]["RestAPI"]["Properties"]


def _gateway_response_types() -> list[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("apigateway")
    return list(model.shape_for("GatewayResponseType").enum)


@pytest.mark.parametrize("stage", STAGES)
def test_every_api_gateway_response_type_answers_in_the_error_envelope(templates, stage):
    from chalicelib.api import errors

    responses = _api(templates[stage])["GatewayResponses"]
    types = _gateway_response_types()
    assert len(types) >= 20, "the list of response types from the API Gateway model looks wrong"
    assert sorted(responses) == sorted(types)
    for kind, response in responses.items():
        body_template = response["ResponseTemplates"]["application/json"]
        # A fixed body: $context.error.message can quote the request's Authorization header.
        assert "$" not in body_template, kind
        body = json.loads(body_template)
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, kind
        code, status = body["error"]["code"], response.get("StatusCode")
        assert body["error"]["message"].strip(), kind
        assert code in errors.STATUS or code in GATEWAY_ONLY_CODES, f"{kind}: unknown code {code}"
        # A code the application also answers keeps the application's status (a server fault may be any 5xx).
        if code == "internal_error":
            assert status is None or 500 <= int(status) <= 599, kind
        elif code in errors.STATUS and status is not None:
            assert int(status) == errors.STATUS[code], kind
        if GATEWAY_ONLY_CODES.get(code):
            assert int(status) == GATEWAY_ONLY_CODES[code], kind
        headers = response["ResponseParameters"]["Headers"]
        assert headers["Cache-Control"] == "'no-store'" and headers["X-Content-Type-Options"] == "'nosniff'", kind
    for kind, (status, code) in EXPECTED.items():
        assert responses[kind].get("StatusCode") == status, kind
        assert json.loads(responses[kind]["ResponseTemplates"]["application/json"])["error"]["code"] == code, kind
    for kind in ("THROTTLED", "QUOTA_EXCEEDED"):
        assert responses[kind]["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_stage_is_traced_throttled_and_writes_json_access_logs_without_paths(templates, stage):
    template = templates[stage]
    api = _api(template)
    resolve = Resolver(template, stage)
    assert api["TracingEnabled"] is True
    settings = api["MethodSettings"]
    assert settings[0]["ResourcePath"] == "/*" and settings[0]["HttpMethod"] == "*"
    assert settings[0]["ThrottlingRateLimit"] > 0 and settings[0]["ThrottlingBurstLimit"] > 0
    assert settings[0]["DataTraceEnabled"] is False  # would log request bodies: passwords, tokens
    log_format = api["AccessLogSetting"]["Format"]
    line = json.loads(log_format)  # every value is a quoted $context variable: one JSON object per request
    assert {"request_id", "status", "route", "method", "latency_ms", "trace_id"} <= set(line)
    # Paths carry link tokens (/i/<token>); only the route pattern is logged.
    assert "$context.path" not in log_format and "$context.resourcePath" in log_format
    assert "$context.requestOverride" not in log_format and "$context.authorizer" not in log_format
    group = api["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert resolve(template["Resources"][group]["Properties"]["RetentionInDays"]) == "365"
    assert template["Resources"][group]["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["OperationsKey", "Arn"]}
    # Access logs need the account's logging role: when this stack sets it, the API comes after it.
    handle = template["Resources"][template["Resources"]["RestAPI"]["DependsOn"]]
    assert handle["Metadata"]["AccountSettings"]["Fn::If"][:2] == ["SetsApiGatewayLoggingRole", {"Ref": "ApiGatewayAccount"}]
    # The API's name carries the stage: the 5xx alarm's ApiName dimension must not see the other stage.
    assert resolve(api["Name"]) == f"latchkey-{stage}" == resolve(api["DefinitionBody"]["info"]["title"])


def _alarms(template: dict) -> dict:
    return resources_of_type(template, "AWS::CloudWatch::Alarm")


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_logs_json_to_its_own_group_is_traced_and_has_an_errors_alarm(templates, stage):
    template = templates[stage]
    resolve = Resolver(template, stage)
    alarms = _alarms(template)
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert functions
    for name, function in functions.items():
        properties = function["Properties"]
        assert resolve(properties["FunctionName"]).startswith(f"latchkey-{stage}-"), name
        logging = properties["LoggingConfig"]
        assert logging["LogFormat"] == "JSON" and logging["ApplicationLogLevel"] == {"Ref": "LogLevel"}, name
        assert template["Parameters"]["LogLevel"]["Default"] == "INFO"
        group = template["Resources"][logging["LogGroup"]["Ref"]]["Properties"]
        assert resolve(group["LogGroupName"]) == f"/aws/lambda/{resolve(properties['FunctionName'])}", name
        assert resolve(group["RetentionInDays"]) == "365" and "KmsKeyId" in group, name
        assert properties["Tracing"] == "Active", name
        role = template["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert resolve(role["ManagedPolicyArns"]) == ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"], name
        errors = [a for a in alarms.values() if a["Properties"].get("MetricName") == "Errors"
                  and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": name}}]]
        assert len(errors) == 1, f"{name} has no errors alarm"


def test_reserved_concurrency_is_on_the_prod_api_only(templates):
    for stage in STAGES:
        for name, function in resources_of_type(templates[stage], "AWS::Serverless::Function").items():
            reserved = function["Properties"].get("ReservedConcurrentExecutions")
            if (stage, name) == ("prod", "APIHandler"):
                assert reserved == config()["stages"]["prod"]["lambda_functions"]["api_handler"]["reserved_concurrency"]
                assert 0 < reserved
            else:
                assert reserved is None, (stage, name)


@pytest.mark.parametrize("stage", STAGES)
def test_a_failed_sweep_run_is_kept_and_anything_given_up_on_raises_an_alarm(templates, stage):
    template = templates[stage]
    sweep = template["Resources"]["ExpireInvitations"]["Properties"]
    on_failure = sweep["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    failed_queue = on_failure["Destination"]["Fn::GetAtt"][0]
    assert template["Resources"][failed_queue]["Type"] == "AWS::SQS::Queue"
    dead_letters = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                    for q in resources_of_type(template, "AWS::SQS::Queue").values()
                    if "RedrivePolicy" in q["Properties"]}
    watched = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in _alarms(template).values()
               if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"}
    assert dead_letters | {failed_queue} == watched
    for alarm in _alarms(template).values():
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible":
            assert alarm["Properties"]["Threshold"] == 0
            assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("stage", STAGES)
def test_ses_reputation_and_the_api_5xx_rate_are_watched(templates, stage):
    template = templates[stage]
    alarms = {a["Properties"].get("MetricName"): a["Properties"] for a in _alarms(template).values()}
    assert alarms["Reputation.BounceRate"]["Namespace"] == "AWS/SES"
    assert alarms["Reputation.BounceRate"]["Threshold"] == 0.05  # SES reports a fraction: 5%
    assert alarms["Reputation.ComplaintRate"]["Threshold"] == 0.001  # 0.1%
    rate = next(a["Properties"] for a in _alarms(template).values() if "Metrics" in a["Properties"])
    metrics = {m["Id"]: m for m in rate["Metrics"]}
    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "5XXError"
    assert metrics["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    resolve = Resolver(template, stage)
    for metric in ("errors", "requests"):
        dimensions = resolve(metrics[metric]["MetricStat"]["Metric"]["Dimensions"])
        assert dimensions == [{"Name": "ApiName", "Value": resolve(_api(template)["Name"])}]
    assert [m for m in rate["Metrics"] if m.get("ReturnData")] == [metrics["rate"]]


@pytest.mark.parametrize("stage", STAGES)
def test_alarms_reach_an_encrypted_topic_that_cloudwatch_and_ses_may_use(templates, stage):
    template = templates[stage]
    for name, alarm in _alarms(template).items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    key_name, key = one(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    for topic in resources_of_type(template, "AWS::SNS::Topic").values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_name, "Arn"]}
    resolve = Resolver(template, stage)
    principals = {resolve(p) for s in key["Properties"]["KeyPolicy"]["Statement"]
                  for p in as_list(s["Principal"].get("Service", []))}
    assert principals == {"cloudwatch.amazonaws.com", "ses.amazonaws.com", "logs.eu-west-1.amazonaws.com"}
    subscription = one(template, "AWS::SNS::Subscription")[1]
    assert subscription["Condition"] == "HasAlarmEmail" and subscription["Properties"]["Protocol"] == "email"


def test_the_deployment_zip_fits_in_8_mb_and_leaves_boto3_to_the_runtime(packaged):
    from scripts.package import RUNTIME_PROVIDED, normalize

    for stage in STAGES:
        path = packaged[stage] / "deployment.zip"
        assert path.stat().st_size <= 8 * 1024 * 1024, f"{path.stat().st_size} bytes"
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            tops = {n.split("/")[0] for n in names}
            dists = {normalize(t[:-len(".dist-info")].rsplit("-", 1)[0]) for t in tops if t.endswith(".dist-info")}
            assert "app.py" in names and "chalicelib/container.py" in names
            assert {"boto3", "botocore", "s3transfer"} & tops == set()
            assert dists & RUNTIME_PROVIDED == set()
            assert {"pynamodb", "jinja2", "jsonschema", "pyjwt", "cryptography"} <= dists
            assert not any("__pycache__" in n for n in names)


def test_every_accepted_checkov_finding_says_why():
    from tests.integration.infra import SOURCE_TEMPLATE, decode

    waivers = [(name, skip) for name, resource in decode(SOURCE_TEMPLATE.read_text(encoding="utf-8"))["Resources"].items()
               for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert waivers, "no waiver found: has the Metadata layout changed?"
    for name, skip in waivers:
        assert skip["id"].startswith("CKV_AWS_"), name
        assert len(skip.get("comment", "").split()) >= 6, f"{name} waives {skip['id']} without a reason"

"""Structure of infra/main.bicep and .funcignore.

No Bicep compiler installs here (it is not on PyPI or Debian), so these tests read the bicep as
text: the resources and api versions, Flex Consumption with Python 3.11, the identity and its
roles, Language with local auth off, and app settings the service really reads, with values its
settings model accepts. When ``bicep`` or ``az`` is on PATH, the file is also compiled.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "infra" / "main.bicep"
PARAMETERS = ROOT / "infra" / "main.parameters.example.json"
FUNCIGNORE = ROOT / ".funcignore"

COGNITIVE_SERVICES_USER = "a97b65f3-24c7-4388-baec-2e87135dc908"
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
HOST_JSON = ROOT / "host.json"
# Settings read by the Functions host, the Python worker or azure-identity, not by redaction/.
PLATFORM_SETTINGS = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
    "AZURE_TOKEN_CREDENTIALS",
}
SHIPPED_ROOTS = ("function_app.py", "host.json", "requirements.txt", "openapi.yaml", "redaction/")
RESOURCE = re.compile(r"^\s*resource (\w+) '([\w./]+)@([\w-]+)'( existing)? = ", re.M)


def bicep_files() -> list[Path]:
    return sorted((ROOT / "infra").rglob("*.bicep"))


def resources() -> dict[str, tuple[str, str]]:
    """symbol -> (type, api version); child resources declared by short type are skipped."""
    found = {}
    for path in bicep_files():
        for symbol, kind, version, _ in RESOURCE.findall(path.read_text()):
            found[symbol] = (kind, version)
    return found


def block(text: str, start: str) -> str:
    """The balanced {...} that follows the first occurrence of ``start``."""
    index = text.index(start)
    opening = text.index("{", index)
    depth = 0
    for position in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[opening : position + 1]
    raise AssertionError(f"unbalanced block after {start!r}")


def resource_block(symbol: str) -> str:
    return block(MAIN.read_text(), f"resource {symbol} ")


def app_settings() -> dict[str, str]:
    properties = block(resource_block("appSettings"), "properties:")
    return dict(re.findall(r"^\s*(\w+): (.+)$", properties, re.M))


def depends_on(symbol: str) -> set[str]:
    """The symbols in a resource's explicit ``dependsOn`` list."""
    listed = re.search(r"^  dependsOn: \[\n(.*?)^  \]", resource_block(symbol), re.M | re.S)
    return set(listed.group(1).split()) if listed else set()


def code_only(text: str) -> str:
    """Bicep source without string contents and // comments."""
    kept = []
    position = 0
    while position < len(text):
        if text.startswith("//", position):
            position = text.find("\n", position) % (len(text) + 1)
            continue
        if text[position] == "'":
            end = position + 1
            while end < len(text) and text[end] != "'":
                end += 2 if text[end] == "\\" else 1
            kept.append("''")
            position = end + 1
            continue
        kept.append(text[position])
        position += 1
    return "".join(kept)


def test_bicep_is_balanced_and_modules_exist() -> None:
    for path in bicep_files():
        text = code_only(path.read_text())
        for opening, closing in ("{}", "[]", "()"):
            assert text.count(opening) == text.count(closing), f"{opening}{closing} in {path}"
        for module in re.findall(r"^module \w+ '([^']+)'", path.read_text(), re.M):
            assert (path.parent / module).is_file(), module


def test_every_resource_the_deployment_needs_is_declared() -> None:
    declared = {kind for kind, _ in resources().values()}
    needed = {
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Insights/components",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.CognitiveServices/accounts",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.ApiManagement/service",
        "Microsoft.ApiManagement/service/namedValues",
        "Microsoft.ApiManagement/service/policyFragments",
    }
    assert needed <= declared, needed - declared
    for symbol, (_, version) in resources().items():
        assert re.fullmatch(r"20\d\d-\d\d-\d\d(-preview)?", version), (symbol, version)


def test_function_app_is_flex_consumption_python_311_with_system_identity() -> None:
    plan = resource_block("plan")
    assert "name: 'FC1'" in plan
    assert "tier: 'FlexConsumption'" in plan
    app = resource_block("functionApp")
    assert "kind: 'functionapp,linux'" in app
    assert "type: 'SystemAssigned'" in block(app, "identity:")
    runtime = block(app, "runtime:")
    assert "name: 'python'" in runtime
    assert "version: '3.11'" in runtime
    assert "serverFarmId: plan.id" in app


def test_language_resource_uses_entra_auth_only() -> None:
    language = resource_block("language")
    assert "kind: 'TextAnalytics'" in language
    assert "disableLocalAuth: true" in language
    assert re.search(r"customSubDomainName: \w+", language)
    assert "LANGUAGE_API_KEY" not in app_settings()


@pytest.mark.parametrize(
    ("symbol", "role", "scope"),
    [
        ("languageUser", COGNITIVE_SERVICES_USER, "language"),
        ("storageOwner", STORAGE_BLOB_DATA_OWNER, "storage"),
        ("secretsUser", KEY_VAULT_SECRETS_USER, "keyVault"),
        ("telemetryPublisher", MONITORING_METRICS_PUBLISHER, "appInsights"),
    ],
)
def test_function_identity_has_its_roles(symbol: str, role: str, scope: str) -> None:
    assignment = resource_block(symbol)
    declared = block(MAIN.read_text(), "var roles")
    roles = dict(re.findall(r"^\s*(\w+): '([0-9a-f-]{36})'", declared, re.M))
    name = re.search(r"roleDefinitions', roles\.(\w+)\)", assignment).group(1)
    assert roles[name] == role
    assert f"scope: {scope}\n" in assignment
    assert "principalId: functionApp.identity.principalId" in assignment
    assert "principalType: 'ServicePrincipal'" in assignment


def test_secrets_are_key_vault_references() -> None:
    main = MAIN.read_text()
    for setting, secret in (
        ("PII_RESTORE_KEY", "pii-restore-key"),
        ("PII_CACHE_SECRET", "pii-cache-secret"),
    ):
        reference = re.search(rf"{setting}: '([^']+)'", main)
        assert reference, f"{setting} is not set"
        assert reference.group(1).startswith("@Microsoft.KeyVault(")
        assert f"SecretName={secret})" in reference.group(1)
        assert f"name: '{secret}'" in main
    assert "@secure()\nparam restoreKey string" in main
    assert "enableRbacAuthorization: true" in resource_block("keyVault")


def test_key_vault_references_are_written_after_their_secrets_and_the_role() -> None:
    """A reference written before its secret exists, or before the identity may read it, stays
    the literal text (issue 15); the app settings wait for both."""
    main = MAIN.read_text()
    settings = resource_block("appSettings")
    assert "resource appSettings 'Microsoft.Web/sites/config@" in main
    assert "parent: functionApp\n" in settings
    assert "name: 'appsettings'" in settings
    secrets = re.findall(r"SecretName=([\w-]+)\)", main)
    assert set(secrets) == {"pii-restore-key", "pii-cache-secret", "pii-audit-hmac-key"}
    vault = resource_block("keyVault")
    declared = dict(re.findall(r"resource (\w+) 'secrets' = [^{]*\{\s*name: '([\w-]+)'", vault))
    assert set(declared.values()) == set(secrets)
    needed = {f"keyVault::{symbol}" for symbol in declared} | {"secretsUser"}
    assert needed <= depends_on("appSettings"), needed - depends_on("appSettings")
    assert "scope: keyVault\n" in resource_block("secretsUser")
    # nothing else writes app settings (a second writer would race the first)
    assert main.count("'appsettings'") == 1
    assert re.search(r"dependsOn: \[\s*appSettings\s*\]", block(main, "module apim "))


def test_host_storage_is_identity_based() -> None:
    settings = app_settings()
    assert "allowSharedKeyAccess: false" in resource_block("storage")
    assert settings["AzureWebJobsStorage__credential"] == "'managedidentity'"
    assert "AzureWebJobsStorage" not in settings, "a connection string needs shared keys"
    deployment = block(resource_block("functionApp"), "deployment:")
    assert "type: 'SystemAssignedIdentity'" in deployment


def test_app_settings_are_settings_the_service_reads() -> None:
    settings_module = pytest.importorskip("redaction.settings")
    known = {name.upper() for name in settings_module.Settings.model_fields}
    names = set(app_settings())
    assert not names & {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION"}, (
        "Flex Consumption rejects these: the runtime is set in functionAppConfig"
    )
    unknown = names - known - PLATFORM_SETTINGS
    assert not unknown, f"app settings nothing reads: {sorted(unknown)}"
    assert {"LANGUAGE_ENDPOINT", "PII_DEADLINE_S"} <= names
    assert app_settings()["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "'true'"
    assert (
        "appInsights.properties.ConnectionString"
        in app_settings()["APPLICATIONINSIGHTS_CONNECTION_STRING"]
    )


def test_literal_app_setting_values_pass_the_settings_model() -> None:
    settings_module = pytest.importorskip("redaction.settings")
    main = MAIN.read_text()
    deadline = re.search(r"param piiDeadlineSeconds int = (\d+)", main).group(1)
    values = {}
    defaults = dict(re.findall(r"^param (\w+) int = (\d+)$", main, re.M))
    for name, value in app_settings().items():
        if name.upper() not in {n.upper() for n in settings_module.Settings.model_fields}:
            continue
        parameter = re.fullmatch(r"string\((\w+)\)", value)
        if parameter:
            values[name.lower()] = defaults[parameter.group(1)]
        elif value.startswith("'"):
            values[name.lower()] = value.strip("'")
    values["language_endpoint"] = "https://lang-example.cognitiveservices.azure.com/"
    settings = settings_module.Settings(**values)
    assert settings.detector_kind == "azure"
    assert settings.pii_deadline_s == float(deadline)


def test_parameters_example_matches_the_template() -> None:
    params = set(re.findall(r"^param (\w+) ", MAIN.read_text(), re.M))
    example = set(json.loads(PARAMETERS.read_text())["parameters"])
    assert example <= params, example - params
    required = set(re.findall(r"^param (\w+) \w+$", MAIN.read_text(), re.M))
    assert required <= example


def test_apim_holds_each_route_s_own_function_key_never_a_host_key() -> None:
    main = MAIN.read_text()
    assert "/host/" not in main, "a host key opens every function"
    assert "listKeys('${functionApp.id}/functions/redact', '2024-04-01').default" in main
    assert "listKeys('${functionApp.id}/functions/restore', '2024-04-01').default" in main
    module = (ROOT / "infra" / "modules" / "apim.bicep").read_text()
    assert re.search(r"@secure\(\)\s*\nparam functionKey string", module)
    assert re.search(r"@secure\(\)\s*\nparam restoreFunctionKey string", module)
    outbound = block(module, "resource outboundFragment ")
    assert "restoreKeyValue" in outbound
    assert "functionKeyValue" not in outbound


def test_the_audit_container_is_immutable_and_the_function_may_only_append() -> None:
    audit = resource_block("auditStorage")
    assert "allowSharedKeyAccess: false" in audit
    retention = block(audit, "resource retention 'immutabilityPolicies'")
    assert "immutabilityPeriodSinceCreationInDays: auditRetentionDays" in retention
    assert "allowProtectedAppendWrites: true" in retention
    role = resource_block("auditAppender")
    actions = re.findall(r"'(Microsoft\.Storage/[^']+)'", role)
    prefix = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/"
    assert sorted(actions) == [prefix + "add/action", prefix + "read", prefix + "write"]
    assert "actions: []" in role
    writer = resource_block("auditWriter")
    assert "scope: auditStorage::auditBlobServices::auditContainer\n" in writer
    assert "roleDefinitionId: auditAppender.id" in writer
    assert "principalId: functionApp.identity.principalId" in writer
    main = MAIN.read_text()
    assert "PII_AUDIT_HMAC_KEY: '@Microsoft.KeyVault(" in main
    assert "SecretName=pii-audit-hmac-key)" in main
    assert "@secure()\nparam auditHmacKey string" in main


@pytest.mark.skipif(
    not (shutil.which("bicep") or shutil.which("az")), reason="no Bicep compiler on PATH"
)
def test_bicep_compiles(tmp_path: Path) -> None:
    if shutil.which("bicep"):
        command = ["bicep", "build", str(MAIN), "--outdir", str(tmp_path)]
    else:
        command = ["az", "bicep", "build", "--file", str(MAIN), "--outdir", str(tmp_path)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)


# --- .funcignore ------------------------------------------------------------------------------


def ignore_patterns() -> list[str]:
    lines = FUNCIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    """gitignore-style match, without negation (which .funcignore does not need)."""
    parts = path.split("/")
    for pattern in patterns:
        directory_only = pattern.endswith("/")
        glob = pattern.rstrip("/")
        anchored = "/" in glob
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if directory_only and depth == len(parts):
                continue
            target = prefix if anchored else parts[depth - 1]
            if fnmatch.fnmatchcase(target, glob.lstrip("/")):
                return True
    return False


def repository_files() -> list[str]:
    files = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).as_posix()
        if path.is_file() and not relative.startswith((".git/", ".venv/")):
            files.append(relative)
    return files


def test_funcignore_ships_only_what_runs() -> None:
    patterns = ignore_patterns()
    shipped = {path for path in repository_files() if not is_ignored(path, patterns)}
    extra = {path for path in shipped if not path.startswith(SHIPPED_ROOTS)}
    assert not extra, f"would be published: {sorted(extra)}"
    for needed in ("function_app.py", "host.json", "requirements.txt", "redaction/__init__.py"):
        if (ROOT / needed).exists():
            assert needed in shipped, needed


def test_funcignore_keeps_out_tests_secrets_and_tooling() -> None:
    patterns = ignore_patterns()
    for path in (
        "tests/test_infra.py",
        "local.settings.json",
        ".venv/bin/python",
        "infra/main.bicep",
        "apim/tenant-policy.example.xml",
        "redaction/__pycache__/models.cpython-311.pyc",
        ".git/config",
        "requirements-dev.txt",
    ):
        assert is_ignored(path, patterns), path
    assert not is_ignored("redaction/models.py", patterns)
    assert not is_ignored(".python_packages/lib/site-packages/x.py", patterns)


# --- Flex Consumption, App Insights, Key Vault name, APIM (issue 15) --------------------------


def int_param(name: str) -> tuple[str, str]:
    """(the decorators just above ``param name int``, its default)."""
    text = MAIN.read_text()
    match = re.search(rf"((?:@.*\n)*)param {name} int = (\d+)\n", text)
    assert match, name
    return match.group(1), match.group(2)


def test_http_concurrency_per_instance_and_the_language_gate_come_from_one_parameter() -> None:
    scale = block(resource_block("functionApp"), "scaleAndConcurrency:")
    http = block(block(scale, "triggers:"), "http:")
    assert "perInstanceConcurrency: instanceConcurrency\n" in http
    assert app_settings()["PII_INSTANCE_CONCURRENCY"] == "string(instanceConcurrency)"
    decorators, default = int_param("instanceConcurrency")
    assert "@minValue(1)" in decorators
    settings = pytest.importorskip("redaction.settings").Settings
    assert settings(pii_instance_concurrency=int(default)).pii_instance_concurrency == int(default)
    assert json.loads(PARAMETERS.read_text())["parameters"]["instanceConcurrency"]["value"] >= 1


def test_maximum_instance_count_is_at_least_flex_s_minimum_of_40() -> None:
    decorators, default = int_param("maximumInstanceCount")
    assert "@minValue(40)" in decorators
    assert "@maxValue(1000)" in decorators
    assert int(default) >= 40
    assert json.loads(PARAMETERS.read_text())["parameters"]["maximumInstanceCount"]["value"] >= 40
    scale = block(resource_block("functionApp"), "scaleAndConcurrency:")
    assert "maximumInstanceCount: maximumInstanceCount\n" in scale


def test_host_json_keeps_only_what_applies_on_flex() -> None:
    """HTTP throttles in host.json do not drive Flex scaling (functionAppConfig does); a host
    throttle below the platform's routing would only turn load into 429s for the gateway."""
    host = json.loads(HOST_JSON.read_text())
    assert set(host) == {
        "version",
        "telemetryMode",
        "functionTimeout",
        "extensionBundle",
        "logging",
    } | {"extensions"}
    assert host["extensions"] == {"http": {"routePrefix": ""}}
    assert host["telemetryMode"] == "OpenTelemetry"
    assert host["extensionBundle"]["version"] == "[4.*, 5.0.0)"


def test_application_insights_takes_entra_tokens_only() -> None:
    assert "DisableLocalAuth: true" in resource_block("appInsights")
    assert app_settings()["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "'Authorization=AAD'"


def test_the_key_vault_name_is_new_after_a_deletion_and_stays_put_otherwise() -> None:
    """A purge-protected vault keeps its name 90 days after its resource group is deleted: the
    name's salt is kept in a tag of the resource group, so a recreated group (no tag) gets a new
    vault name on its own, and every later deployment reads the same salt back."""
    main = MAIN.read_text()
    assert re.search(r"^param deploymentTime string = utcNow\(\)$", main, re.M)
    assert "var keyVaultSaltTag = 'pii-key-vault-salt'\n" in main
    # the stored salt first (also an empty one: the name of deployments from before the salt)
    assert "var keyVaultSalt = resourceGroup().?tags[?keyVaultSaltTag] ?? deploymentTime\n" in main
    assert (
        "var keyVaultToken = empty(keyVaultSalt) ? token : "
        "toLower(uniqueString(token, keyVaultSalt))\n" in main
    )
    assert "var keyVaultName = take('kv-${baseName}-${keyVaultToken}', 24)" in main
    assert "name: keyVaultName\n" in resource_block("keyVault")
    # only the vault's name moves with the salt
    assert len(re.findall(r"\bdeploymentTime\b", code_only(main))) == 2
    assert len(re.findall(r"\bkeyVaultSalt\b", code_only(main))) == 4


def test_the_salt_is_written_to_the_resource_group_before_the_vault() -> None:
    assert resources()["resourceGroupTags"][0] == "Microsoft.Resources/tags"
    tags = resource_block("resourceGroupTags")
    assert "name: 'default'\n" in tags
    assert "scope:" not in tags, "no scope: the tags of the resource group deployed to"
    # the group's other tags are kept: the tags resource replaces them all
    assert (
        "tags: union(resourceGroup().?tags ?? {}, { '${keyVaultSaltTag}': keyVaultSalt })" in tags
    )
    assert "resourceGroupTags" in depends_on("keyVault")


def test_no_apim_backend_holds_an_unused_copy_of_the_function_key() -> None:
    declared = {kind for kind, _ in resources().values()}
    assert "Microsoft.ApiManagement/service/backends" not in declared
    for fragment in (ROOT / "apim" / "fragments").glob("*.xml"):
        assert "backend-id" not in fragment.read_text()


# --- local.settings.json.example: Core Tools as copied (issue 15) -------------------------------

LOCAL_SETTINGS = ROOT / "local.settings.json.example"


def test_the_local_settings_example_runs_under_core_tools_as_copied() -> None:
    """The worker's telemetry only with a connection string (with an empty one the worker's
    configure_azure_monitor fails); host storage from Azurite; host.json's OpenTelemetry mode
    overridden for the local host, and the Python worker named (Flex sets it in Azure)."""
    example = json.loads(LOCAL_SETTINGS.read_text())
    assert example["IsEncrypted"] is False
    values = example["Values"]
    assert all(isinstance(value, str) for value in values.values())
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    if not values["APPLICATIONINSIGHTS_CONNECTION_STRING"]:
        assert values["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "false"
    assert values["AzureFunctionsJobHost__telemetryMode"] == "ApplicationInsights"
    assert json.loads(HOST_JSON.read_text())["telemetryMode"] == "OpenTelemetry"  # in Azure

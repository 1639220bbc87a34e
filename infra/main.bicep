// PII redaction function and everything it needs, in one resource group:
// Function App (Flex Consumption, Python 3.11, system-assigned identity), its storage
// (identity-based AzureWebJobsStorage, no shared keys), Log Analytics + Application Insights,
// an Azure AI Language resource with local auth disabled, the audit trail's own storage account
// (a container under a time-based retention policy, protected appends allowed), the role
// assignments, and, when apimServiceName is set, the APIM named values and fragments.
//
// Validate:  az bicep build --file infra/main.bicep
//            az deployment group what-if -g <rg> -f infra/main.bicep -p infra/main.parameters.example.json
// Deploy:    see docs/deploy.md.

targetScope = 'resourceGroup'

@description('Location of every resource. Must offer Flex Consumption and Azure AI Language.')
param location string = resourceGroup().location

@description('Short name used in resource names (lowercase letters and digits).')
@minLength(3)
@maxLength(12)
param baseName string = 'piiredact'

@description('Azure AI Language pricing tier. F0 is free but limited to 5,000 text records a month.')
@allowed(['F0', 'S'])
param languageSku string = 'S'

@description('Upper bound of Flex Consumption instances (Flex accepts 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Concurrent HTTP requests per instance: Flex Consumption routes no more than this to one instance and scales out beyond it (functionAppConfig, not host.json). Also PII_INSTANCE_CONCURRENCY, the Language calls in flight per instance, so the two cannot drift apart.')
@minValue(1)
@maxValue(1000)
param instanceConcurrency int = 32

@description('Memory per Flex Consumption instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Request deadline of /redact in seconds (PII_DEADLINE_S). The APIM fragment waits 90 s, so keep it below that.')
@minValue(10)
@maxValue(85)
param piiDeadlineSeconds int = 85

@description('Name of an existing API Management instance to wire up. Empty: skip the APIM part (deploy it later, after the code is published).')
param apimServiceName string = ''

@description('Resource group of the API Management instance.')
param apimResourceGroupName string = resourceGroup().name

param tags object = {}

@description('Leave unset: the time of this deployment. The first deployment into a resource group makes it the salt of the Key Vault name (stored in the resource group tag pii-key-vault-salt).')
param deploymentTime string = utcNow()

@description('Restore-token key for placeholder mode: 32 random bytes, base64 (openssl rand -base64 32). Empty: placeholder mode is off. Stored in Key Vault; the app setting is a Key Vault reference.')
@secure()
param restoreKey string = ''

@description('HMAC secret of the detection cache keys, shared by every instance (openssl rand -base64 32). Empty: a random secret per instance.')
@secure()
param cacheSecret string = ''

@description('Audit trail: HMAC key of the records (openssl rand -base64 32). Empty: the audit trail is off (its storage is still created). Stored in Key Vault; the app setting is a Key Vault reference.')
@secure()
param auditHmacKey string = ''

@description('Audit trail: days each audit blob stays immutable (time-based retention, protected append writes allowed). Lock the policy once verified (docs/security.md#audit-trail).')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int = 365

@description('Audit trail: answer 503 when a request\'s audit record cannot be stored in time (PII_AUDIT_REQUIRED).')
param auditRequired bool = false

@description('Audit trail: object id of the auditors\' group (Storage Blob Data Reader on the audit container, Key Vault Secrets User on the audit key). Empty: assign later.')
param auditorPrincipalId string = ''

var token = toLower(uniqueString(subscription().id, resourceGroup().id, baseName))
var functionAppName = 'func-${baseName}-${token}'
var storageAccountName = take('st${baseName}${token}', 24)
var languageAccountName = 'lang-${baseName}-${token}'
var deploymentContainerName = 'app-package-${take(token, 8)}'
// A deleted vault stays soft-deleted under purge protection for 90 days and keeps its name, so a
// resource group deleted and created again cannot reuse it. The name's salt lives in a tag of the
// resource group: every later deployment reads it back (same vault); a new resource group has no
// tag, so its first deployment picks a new salt (new vault name). An empty tag value keeps the
// name of deployments made before the salt existed (docs/deploy.md).
var keyVaultSaltTag = 'pii-key-vault-salt'
var keyVaultSalt = resourceGroup().?tags[?keyVaultSaltTag] ?? deploymentTime
var keyVaultToken = empty(keyVaultSalt) ? token : toLower(uniqueString(token, keyVaultSalt))
var keyVaultName = take('kv-${baseName}-${keyVaultToken}', 24)
var auditStorageAccountName = take('staud${baseName}${token}', 24)
var auditContainerName = 'pii-audit'

// Built-in role definition ids.
var roles = {
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// The resource group's own tags, with the Key Vault name's salt kept (or added on the first
// deployment). Written before the vault, so a deployment that fails later still keeps the salt.
resource resourceGroupTags 'Microsoft.Resources/tags@2024-03-01' = {
  name: 'default'
  properties: {
    tags: union(resourceGroup().?tags ?? {}, { '${keyVaultSaltTag}': keyVaultSalt })
  }
}

// Secrets the function reads through Key Vault references (its identity has Key Vault Secrets User).
resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  dependsOn: [
    resourceGroupTags
  ]
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
  }

  resource restoreKeySecret 'secrets' = if (!empty(restoreKey)) {
    name: 'pii-restore-key'
    properties: { value: restoreKey }
  }

  resource cacheSecretSecret 'secrets' = if (!empty(cacheSecret)) {
    name: 'pii-cache-secret'
    properties: { value: cacheSecret }
  }

  resource auditKeySecret 'secrets' = if (!empty(auditHmacKey)) {
    name: 'pii-audit-hmac-key'
    properties: { value: auditHmacKey }
  }
}

var secretSettings = union(
  empty(restoreKey) ? {} : {
    PII_RESTORE_KEY: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=pii-restore-key)'
  },
  empty(cacheSecret) ? {} : {
    PII_CACHE_SECRET: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=pii-cache-secret)'
  },
  empty(auditHmacKey) ? {} : {
    PII_AUDIT_ACCOUNT_URL: auditStorage.properties.primaryEndpoints.blob
    PII_AUDIT_CONTAINER: auditContainerName
    PII_AUDIT_HMAC_KEY: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=pii-audit-hmac-key)'
    PII_AUDIT_REQUIRED: auditRequired ? 'true' : 'false'
  }
)

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${baseName}-${token}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${baseName}-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Entra ID only: telemetry is accepted from identities with Monitoring Metrics Publisher
    // (the function's, below), never with the connection string's instrumentation key alone.
    DisableLocalAuth: true
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
    }
  }
}

// The audit trail's own account: the function's Storage Blob Data Owner on host storage does not
// reach it. Its container keeps every blob immutable for auditRetentionDays: blobs can be created
// and appended to (protected append writes), never overwritten or deleted.
resource auditStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: auditStorageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }

  resource auditBlobServices 'blobServices' = {
    name: 'default'

    resource auditContainer 'containers' = {
      name: auditContainerName

      resource retention 'immutabilityPolicies' = {
        name: 'default'
        properties: {
          immutabilityPeriodSinceCreationInDays: auditRetentionDays
          allowProtectedAppendWrites: true
        }
      }
    }
  }
}

// Only what appending needs: read (a blob's size, after an append whose answer was lost), write
// and add (create an append blob, append a block). No delete; the retention policy forbids
// overwriting.
resource auditAppender 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'pii-audit-appender')
  properties: {
    roleName: 'PII audit appender (${resourceGroup().name})'
    description: 'Create and append to blobs of the PII redaction audit container; nothing else.'
    type: 'CustomRole'
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
        ]
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${baseName}-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource language 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: languageAccountName
  location: location
  tags: tags
  kind: 'TextAnalytics'
  sku: {
    name: languageSku
  }
  properties: {
    // Entra ID tokens need the custom subdomain endpoint (https://<name>.cognitiveservices.azure.com).
    customSubDomainName: languageAccountName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            perInstanceConcurrency: instanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// Flex Consumption sets the runtime in functionAppConfig: no FUNCTIONS_WORKER_RUNTIME here.
// The Key Vault references resolve only once their secrets exist and the function's identity may
// read them, so the settings are written after both (an unresolved reference stays the literal
// text until App Service retries; the app then runs degraded, never down: docs/deploy.md).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(secretSettings, {
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    // The host and the worker's exporter authenticate with the system-assigned identity.
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
    PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
    AZURE_TOKEN_CREDENTIALS: 'ManagedIdentityCredential'
    PII_DETECTOR: 'azure'
    LANGUAGE_ENDPOINT: language.properties.endpoint
    LANGUAGE_API_VERSION: '2025-11-01'
    PII_MAX_DOC_CHARS: '5000'
    PII_DOCS_PER_BATCH: '5'
    PII_MAX_BATCHES: '15'
    PII_ATTEMPT_TIMEOUT_S: '10'
    PII_DEADLINE_S: string(piiDeadlineSeconds)
    PII_INSTANCE_CONCURRENCY: string(instanceConcurrency)
  })
  dependsOn: [
    keyVault::restoreKeySecret
    keyVault::cacheSecretSecret
    keyVault::auditKeySecret
    secretsUser
  ]
}

// The function calls Language with its own identity; role assignments take a few minutes to apply.
resource languageUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(language.id, functionApp.id, roles.cognitiveServicesUser)
  scope: language
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Host storage (AzureWebJobsStorage) and the deployment container, without shared keys.
resource storageOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry to Application Insights, whose local (key) auth is off.
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionApp.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault references resolve with the function's identity.
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, functionApp.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The function appends audit records, on the audit container only.
resource auditWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(auditStorage::auditBlobServices::auditContainer.id, functionApp.id, 'pii-audit-appender')
  scope: auditStorage::auditBlobServices::auditContainer
  properties: {
    roleDefinitionId: auditAppender.id
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Auditors read the audit container and the audit key (to check signatures and body digests).
resource auditReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(auditorPrincipalId)) {
  name: guid(auditStorage::auditBlobServices::auditContainer.id, auditorPrincipalId, roles.storageBlobDataReader)
  scope: auditStorage::auditBlobServices::auditContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: auditorPrincipalId
    principalType: 'Group'
  }
}

resource auditKeyReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(auditorPrincipalId) && !empty(auditHmacKey)) {
  name: guid(keyVault.id, auditorPrincipalId, 'pii-audit-hmac-key')
  scope: keyVault::auditKeySecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: auditorPrincipalId
    principalType: 'Group'
  }
}

// Each function's own key exists once the code is published; deploy with apimServiceName after
// `func azure functionapp publish` (docs/deploy.md, step 6).
module apim 'modules/apim.bicep' = if (!empty(apimServiceName)) {
  name: 'pii-redaction-apim'
  scope: resourceGroup(apimResourceGroupName)
  params: {
    apimServiceName: apimServiceName
    functionAppUrl: 'https://${functionApp.properties.defaultHostName}'
    // Not a host key (that opens every function): /redact's and /restore's own keys, so the
    // inbound fragment cannot restore and the outbound one cannot redact.
    functionKey: listKeys('${functionApp.id}/functions/redact', '2024-04-01').default
    restoreFunctionKey: listKeys('${functionApp.id}/functions/restore', '2024-04-01').default
  }
  dependsOn: [
    appSettings
  ]
}

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output functionPrincipalId string = functionApp.identity.principalId
output languageEndpoint string = language.properties.endpoint
output languageAccountName string = language.name
output applicationInsightsName string = appInsights.name
output keyVaultName string = keyVault.name
output auditStorageAccountName string = auditStorage.name
output auditContainerName string = auditContainerName

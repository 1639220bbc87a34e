// APIM side of the PII redaction function, on an existing API Management instance:
// the named values the policy fragment reads, a backend for the function, and the fragment itself.

@description('Existing API Management instance.')
param apimServiceName string

@description('Resource id of the Function App.')
param functionAppResourceId string

@description('Base URL of the Function App, without a trailing slash and without /redact.')
param functionAppUrl string

@description('The redact function\'s key, which APIM sends to /redact in x-functions-key.')
@secure()
param functionKey string

@description('The restore function\'s key, which only the outbound fragment sends to /restore.')
@secure()
param restoreFunctionKey string

resource apim 'Microsoft.ApiManagement/service@2022-08-01' existing = {
  name: apimServiceName
}

resource functionUrl 'Microsoft.ApiManagement/service/namedValues@2022-08-01' = {
  parent: apim
  name: 'piiRedactionFunctionUrl'
  properties: {
    displayName: 'piiRedactionFunctionUrl'
    value: functionAppUrl
    secret: false
  }
}

// A secret named value: hidden in the portal and in exports. For rotation from Key Vault, replace
// value with keyVault: { secretIdentifier: ... } and give APIM's identity read access.
resource functionKeyValue 'Microsoft.ApiManagement/service/namedValues@2022-08-01' = {
  parent: apim
  name: 'piiRedactionFunctionKey'
  properties: {
    displayName: 'piiRedactionFunctionKey'
    value: functionKey
    secret: true
  }
}

resource restoreKeyValue 'Microsoft.ApiManagement/service/namedValues@2022-08-01' = {
  parent: apim
  name: 'piiRestoreFunctionKey'
  properties: {
    displayName: 'piiRestoreFunctionKey'
    value: restoreFunctionKey
    secret: true
  }
}

resource backend 'Microsoft.ApiManagement/service/backends@2022-08-01' = {
  parent: apim
  name: 'pii-redaction-function'
  properties: {
    description: 'PII redaction function (POST /redact, GET /health)'
    url: functionAppUrl
    protocol: 'http'
    resourceId: '${environment().resourceManager}${substring(functionAppResourceId, 1)}'
    credentials: {
      header: {
        'x-functions-key': [
          '{{piiRedactionFunctionKey}}'
        ]
      }
    }
  }
  dependsOn: [
    functionKeyValue
  ]
}

// APIM rejects a policy that names a missing named value, so the fragment comes last.
resource fragment 'Microsoft.ApiManagement/service/policyFragments@2022-08-01' = {
  parent: apim
  name: 'pii-anonymization'
  properties: {
    description: 'Redacts personal data from the request body through the PII redaction function.'
    format: 'xml'
    value: loadTextContent('../../apim/fragments/pii-anonymization.xml')
  }
  dependsOn: [
    functionUrl
    functionKeyValue
  ]
}

// The outbound half for placeholder mode: calls /restore on the model's answer.
resource outboundFragment 'Microsoft.ApiManagement/service/policyFragments@2022-08-01' = {
  parent: apim
  name: 'pii-deanonymization'
  properties: {
    description: 'Restores placeholders in the response through the PII redaction function.'
    format: 'xml'
    value: loadTextContent('../../apim/fragments/pii-deanonymization.xml')
  }
  dependsOn: [
    functionUrl
    restoreKeyValue
  ]
}

output fragmentId string = fragment.name
output outboundFragmentId string = outboundFragment.name
output backendId string = backend.name

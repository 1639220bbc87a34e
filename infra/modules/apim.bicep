// APIM side of the PII redaction function, on an existing API Management instance:
// the named values the policy fragments read and the fragments themselves. No backend: the
// fragments call the function with send-request from the named values, so a backend would only
// hold a second copy of the function key that nothing uses.

@description('Existing API Management instance.')
param apimServiceName string

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

// The APIM context model the policy expressions compile against (tests only, never shipped).
//
// It mirrors the members of API Management's documented context variable that the fragments use
// (https://learn.microsoft.com/azure/api-management/api-management-policy-expressions#ContextVariables),
// with the documented names and types; nothing else is declared, so an expression that uses a
// member APIM does not document fails to compile here. Values are set by tests/apim/runner.cs.
//
// Behaviour the documentation states and the model keeps:
// - context.Variables is an IReadOnlyDictionary<string, object>; GetValueOrDefault<T> "returns
//   variable value cast to type T or defaultValue if the variable is not found" and "throws an
//   exception if the specified type does not match the actual type" (a plain cast here).
// - Headers are IReadOnlyDictionary<string, string[]>; Headers.GetValueOrDefault(name, default)
//   returns the values comma-separated (header names are case-insensitive).
// - IMessageBody.As<T>(preserveContent = false) reads the body as string, byte[], JObject, JToken,
//   JArray (the XML types are not modelled); without preserveContent the body is consumed and a
//   second read throws here (APIM documents it as "unavailable after it returns").
// - context.Request.Body is null when the request has no body.
// Not documented in the reference table but used in Microsoft's own policy samples: the
// one-argument GetValueOrDefault<T>(name) (the default is default(T)).
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Newtonsoft.Json.Linq;

public interface IMessageBody
{
    T As<T>(bool preserveContent = false);
}

public interface IUrl
{
    string Host { get; }
    string Path { get; }
    int Port { get; }
    IReadOnlyDictionary<string, string[]> Query { get; }
    string QueryString { get; }
    string Scheme { get; }
}

public interface IRequest
{
    IMessageBody Body { get; }
    IReadOnlyDictionary<string, string[]> Headers { get; }
    string IpAddress { get; }
    IReadOnlyDictionary<string, string> MatchedParameters { get; }
    string Method { get; }
    IUrl OriginalUrl { get; }
    IUrl Url { get; }
}

public interface IResponse
{
    IMessageBody Body { get; }
    IReadOnlyDictionary<string, string[]> Headers { get; }
    int StatusCode { get; }
    string StatusReason { get; }
}

public interface ISubscription
{
    DateTime CreatedDate { get; }
    DateTime? EndDate { get; }
    string Id { get; }
    string Key { get; }
    string Name { get; }
    string PrimaryKey { get; }
    string SecondaryKey { get; }
    DateTime? StartDate { get; }
}

public interface IProxyRequestContext
{
    TimeSpan Elapsed { get; }
    IRequest Request { get; }
    Guid RequestId { get; }
    IResponse Response { get; }
    ISubscription Subscription { get; }
    DateTime Timestamp { get; }
    bool Tracing { get; }
    IReadOnlyDictionary<string, object> Variables { get; }
    void Trace(string message);
}

public static class ApimExtensions
{
    public static T GetValueOrDefault<T>(this IReadOnlyDictionary<string, object> variables, string variableName, T defaultValue)
    {
        object value;
        return variables.TryGetValue(variableName, out value) ? (T)value : defaultValue;
    }

    public static T GetValueOrDefault<T>(this IReadOnlyDictionary<string, object> variables, string variableName)
    {
        return variables.GetValueOrDefault<T>(variableName, default(T));
    }

    public static string GetValueOrDefault(this IReadOnlyDictionary<string, string[]> headers, string headerName, string defaultValue)
    {
        string[] values;
        return headers.TryGetValue(headerName, out values) ? string.Join(",", values) : defaultValue;
    }
}

// --- the implementations the runner fills in ----------------------------------------------------

public sealed class MessageBody : IMessageBody
{
    private readonly string text;
    private bool consumed;

    public MessageBody(string text) { this.text = text; }

    public string Peek() { return consumed ? "" : text; }

    public T As<T>(bool preserveContent = false)
    {
        if (consumed) { throw new InvalidOperationException("the body was already read without preserveContent"); }
        if (!preserveContent) { consumed = true; }
        object value;
        if (typeof(T) == typeof(string)) { value = text; }
        else if (typeof(T) == typeof(byte[])) { value = Encoding.UTF8.GetBytes(text); }
        else if (typeof(T) == typeof(JObject)) { value = JObject.Parse(text); }
        else if (typeof(T) == typeof(JArray)) { value = JArray.Parse(text); }
        else if (typeof(T) == typeof(JToken)) { value = JToken.Parse(text); }
        else { throw new NotSupportedException("As<" + typeof(T).Name + "> is not modelled"); }
        return (T)value;
    }
}

public sealed class Headers : Dictionary<string, string[]>
{
    public Headers() : base(StringComparer.OrdinalIgnoreCase) { }
}

public sealed class Url : IUrl
{
    private readonly Uri uri;
    public Url(string url) { uri = new Uri(url); }
    public string Host { get { return uri.Host; } }
    public string Path { get { return uri.AbsolutePath; } }
    public int Port { get { return uri.Port; } }
    public IReadOnlyDictionary<string, string[]> Query { get { return new Dictionary<string, string[]>(); } }
    public string QueryString { get { return uri.Query; } }
    public string Scheme { get { return uri.Scheme; } }
}

public sealed class Request : IRequest
{
    public MessageBody BodyValue;
    public Headers HeaderValues = new Headers();
    public string MethodValue = "POST";
    public Url UrlValue = new Url("https://gateway.test/");
    public IMessageBody Body { get { return BodyValue; } }
    public IReadOnlyDictionary<string, string[]> Headers { get { return HeaderValues; } }
    public string IpAddress { get { return "203.0.113.7"; } }
    public IReadOnlyDictionary<string, string> MatchedParameters { get { return new Dictionary<string, string>(); } }
    public string Method { get { return MethodValue; } }
    public IUrl OriginalUrl { get { return UrlValue; } }
    public IUrl Url { get { return UrlValue; } }
}

public sealed class Response : IResponse
{
    public MessageBody BodyValue = new MessageBody("");
    public Headers HeaderValues = new Headers();
    public int StatusCodeValue = 200;
    public string StatusReasonValue = "OK";
    public IMessageBody Body { get { return BodyValue; } }
    public IReadOnlyDictionary<string, string[]> Headers { get { return HeaderValues; } }
    public int StatusCode { get { return StatusCodeValue; } }
    public string StatusReason { get { return StatusReasonValue; } }
}

public sealed class Subscription : ISubscription
{
    public string IdValue;
    public string NameValue;
    public DateTime CreatedDate { get { return new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc); } }
    public DateTime? EndDate { get { return null; } }
    public string Id { get { return IdValue; } }
    public string Key { get { return "subscription-key"; } }
    public string Name { get { return NameValue; } }
    public string PrimaryKey { get { return "subscription-key"; } }
    public string SecondaryKey { get { return "subscription-key-2"; } }
    public DateTime? StartDate { get { return null; } }
}

public sealed class Context : IProxyRequestContext
{
    public readonly Dictionary<string, object> VariableValues = new Dictionary<string, object>();
    public readonly List<string> Traced = new List<string>();
    public Request RequestValue = new Request();
    public Response ResponseValue = new Response();
    public Subscription SubscriptionValue;
    public Guid RequestIdValue = Guid.Empty;
    public DateTime TimestampValue = DateTime.UtcNow;
    public TimeSpan Elapsed { get { return DateTime.UtcNow - TimestampValue; } }
    public IRequest Request { get { return RequestValue; } }
    public Guid RequestId { get { return RequestIdValue; } }
    public IResponse Response { get { return ResponseValue; } }
    public ISubscription Subscription { get { return SubscriptionValue; } }
    public DateTime Timestamp { get { return TimestampValue; } }
    public bool Tracing { get { return false; } }
    public IReadOnlyDictionary<string, object> Variables { get { return VariableValues; } }
    public void Trace(string message) { Traced.Add(message); }
}

// Host for the compiled policy expressions (tests only): one JSON command a line on stdin, one JSON
// answer a line on stdout. tests/apim/player.py drives it; the expressions live in Expressions.dll
// (generated from the policy XML), the context model in Context.dll (tests/apim/context.cs).
//
// Commands: reset, eval, set-var, set-var-literal, set-response-var, set-request, set-response,
// set-body, set-header, get-message, inspect (the member references of every compiled expression).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

public static class Runner
{
    static Context context = new Context();
    static Type expressions;

    public static int Main(string[] args)
    {
        expressions = Assembly.LoadFrom(args[0]).GetType("Expressions", true);
        var input = new StreamReader(Console.OpenStandardInput(), new System.Text.UTF8Encoding(false));
        var output = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false));
        string line;
        while ((line = input.ReadLine()) != null)
        {
            JObject answer;
            try { answer = Handle(JObject.Parse(line)); }
            catch (Exception error)
            {
                var inner = error is TargetInvocationException && error.InnerException != null ? error.InnerException : error;
                answer = new JObject { ["ok"] = false, ["error"] = inner.GetType().FullName + ": " + inner.Message };
            }
            output.WriteLine(answer.ToString(Formatting.None));
            output.Flush();
        }
        return 0;
    }

    static JObject Ok() { return new JObject { ["ok"] = true }; }

    static object Evaluate(int id)
    {
        var method = expressions.GetMethod("E" + id, BindingFlags.Public | BindingFlags.Static);
        if (method == null) { throw new ArgumentException("no expression " + id); }
        return method.Invoke(null, new object[] { context });
    }

    static JObject Describe(object value)
    {
        var answer = Ok();
        answer["type"] = value == null ? "null" : value.GetType().FullName;
        answer["text"] = value == null ? null : Convert.ToString(value);
        if (value is bool) { answer["bool"] = (bool)value; }
        return answer;
    }

    static Headers ReadHeaders(JToken token)
    {
        var headers = new Headers();
        if (token is JObject)
        {
            foreach (var pair in (JObject)token)
            {
                headers[pair.Key] = pair.Value.Select(item => (string)item).ToArray();
            }
        }
        return headers;
    }

    static Response ReadResponse(JObject message)
    {
        var response = new Response();
        response.StatusCodeValue = (int)message["status"];
        response.StatusReasonValue = (string)message["reason"] ?? "";
        response.HeaderValues = ReadHeaders(message["headers"]);
        response.BodyValue = new MessageBody((string)message["body"] ?? "");
        return response;
    }

    static JObject WriteHeaders(Headers headers)
    {
        var result = new JObject();
        foreach (var pair in headers) { result[pair.Key] = new JArray(pair.Value); }
        return result;
    }

    static JObject Handle(JObject command)
    {
        string op = (string)command["op"];
        switch (op)
        {
            case "reset":
                context = new Context();
                context.RequestIdValue = Guid.Parse((string)command["request_id"]);
                if (command["subscription_id"].Type == JTokenType.String)
                {
                    context.SubscriptionValue = new Subscription { IdValue = (string)command["subscription_id"], NameValue = "tenant" };
                }
                return Ok();
            case "set-request":
                context.RequestValue = new Request();
                context.RequestValue.MethodValue = (string)command["method"];
                context.RequestValue.UrlValue = new Url((string)command["url"]);
                context.RequestValue.HeaderValues = ReadHeaders(command["headers"]);
                context.RequestValue.BodyValue = command["body"].Type == JTokenType.Null ? null : new MessageBody((string)command["body"]);
                return Ok();
            case "set-response":
                context.ResponseValue = ReadResponse((JObject)command["response"]);
                return Ok();
            case "eval":
                return Describe(Evaluate((int)command["id"]));
            case "set-var":
            {
                object value = Evaluate((int)command["id"]);
                context.VariableValues[(string)command["name"]] = value;
                return Describe(value);
            }
            case "set-var-literal":
                context.VariableValues[(string)command["name"]] = (string)command["value"];
                return Describe((string)command["value"]);
            case "set-response-var":
                context.VariableValues[(string)command["name"]] =
                    command["response"].Type == JTokenType.Null ? null : ReadResponse((JObject)command["response"]);
                return Ok();
            case "set-body":
                if ((string)command["target"] == "request") { context.RequestValue.BodyValue = new MessageBody((string)command["text"]); }
                else { context.ResponseValue.BodyValue = new MessageBody((string)command["text"]); }
                return Ok();
            case "set-header":
            {
                var headers = (string)command["target"] == "request" ? context.RequestValue.HeaderValues : context.ResponseValue.HeaderValues;
                string name = (string)command["name"];
                string action = (string)command["action"];
                string[] values = command["values"].Select(item => (string)item).ToArray();
                if (action == "delete") { headers.Remove(name); }
                else if (action == "skip") { if (!headers.ContainsKey(name)) { headers[name] = values; } }
                else if (action == "append" && headers.ContainsKey(name)) { headers[name] = headers[name].Concat(values).ToArray(); }
                else { headers[name] = values; }
                return Ok();
            }
            case "get-message":
            {
                var answer = Ok();
                if ((string)command["target"] == "request")
                {
                    var request = context.RequestValue;
                    answer["method"] = request.MethodValue;
                    answer["headers"] = WriteHeaders(request.HeaderValues);
                    answer["body"] = request.BodyValue == null ? null : request.BodyValue.Peek();
                }
                else
                {
                    var response = context.ResponseValue;
                    answer["status"] = response.StatusCodeValue;
                    answer["headers"] = WriteHeaders(response.HeaderValues);
                    answer["body"] = response.BodyValue.Peek();
                }
                return answer;
            }
            case "inspect":
                return Inspect();
            default:
                throw new ArgumentException("unknown op " + op);
        }
    }

    // --- what the compiled expressions reference ----------------------------------------------

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null))
        .ToDictionary(code => code.Value);

    static int OperandSize(OpCode code, byte[] il, int at)
    {
        switch (code.OperandType)
        {
            case OperandType.InlineNone: return 0;
            case OperandType.ShortInlineBrTarget:
            case OperandType.ShortInlineI:
            case OperandType.ShortInlineVar: return 1;
            case OperandType.InlineVar: return 2;
            case OperandType.InlineI8:
            case OperandType.InlineR: return 8;
            case OperandType.InlineSwitch: return 4 + 4 * BitConverter.ToInt32(il, at);
            default: return 4;
        }
    }

    static string TypeName(Type type)
    {
        while (type.HasElementType) { type = type.GetElementType(); }
        if (type.IsGenericType && !type.IsGenericTypeDefinition) { type = type.GetGenericTypeDefinition(); }
        return type.FullName ?? type.Name;
    }

    static void AddType(JArray found, string where, Type type, string role = "type")
    {
        if (type == null || type.IsGenericParameter) { return; }
        if (type.IsArray) { found.Add(new JObject { ["in"] = where, ["type"] = "System.Array", ["member"] = null, ["role"] = role }); }
        found.Add(new JObject
        {
            ["in"] = where,
            ["type"] = TypeName(type),
            ["member"] = null,
            ["role"] = role,
            ["assembly"] = type.Assembly.GetName().Name,
        });
        if (type.IsGenericType) { foreach (var argument in type.GetGenericArguments()) { AddType(found, where, argument, role); } }
        if (type.HasElementType) { AddType(found, where, type.GetElementType(), role); }
    }

    // Enum values compile to constants: an enum the code names shows only in the signature of the
    // member it is passed to or returned from (StringComparison, Formatting, JTokenType).
    static void AddSignatureEnums(JArray found, string where, MethodBase method)
    {
        var types = method.GetParameters().Select(parameter => parameter.ParameterType).ToList();
        var info = method as MethodInfo;
        if (info != null) { types.Add(info.ReturnType); }
        foreach (var type in types)
        {
            var bare = type.HasElementType ? type.GetElementType() : type;
            if (bare.IsEnum) { AddType(found, where, bare, "enum-in-signature"); }
        }
    }

    static void AddMember(JArray found, string where, MemberInfo member)
    {
        var type = member as Type;
        if (type != null) { AddType(found, where, type); return; }
        found.Add(new JObject
        {
            ["in"] = where,
            ["type"] = TypeName(member.DeclaringType),
            ["member"] = member.Name,
            ["role"] = "member",
            ["assembly"] = member.DeclaringType.Assembly.GetName().Name,
        });
        var method = member as MethodInfo;
        if (method != null && method.IsGenericMethod)
        {
            string role = method.Name == "Empty" && method.DeclaringType == typeof(Array) ? "params-array" : "generic-argument";
            foreach (var argument in method.GetGenericArguments()) { AddType(found, where, argument, role); }
        }
        if (member.DeclaringType.IsGenericType)
        {
            foreach (var argument in member.DeclaringType.GetGenericArguments()) { AddType(found, where, argument, "generic-argument"); }
        }
        var called = member as MethodBase;
        if (called != null) { AddSignatureEnums(found, where, called); }
        var fieldInfo = member as FieldInfo;
        if (fieldInfo != null && fieldInfo.FieldType.IsEnum) { AddType(found, where, fieldInfo.FieldType, "enum-in-signature"); }
    }

    static JObject Inspect()
    {
        var found = new JArray();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static
            | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var type in expressions.Assembly.GetTypes())
        {
            var methods = type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
            foreach (var method in methods)
            {
                string where = type.FullName + "::" + method.Name;
                var body = method.GetMethodBody();
                if (body == null) { continue; }
                foreach (var local in body.LocalVariables) { AddType(found, where, local.LocalType); }
                foreach (var clause in body.ExceptionHandlingClauses)
                {
                    if (clause.Flags == ExceptionHandlingClauseOptions.Clause) { AddType(found, where, clause.CatchType); }
                }
                var typeArgs = type.IsGenericType ? type.GetGenericArguments() : null;
                var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
                byte[] il = body.GetILAsByteArray();
                int at = 0;
                while (at < il.Length)
                {
                    short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
                    at += il[at] == 0xFE ? 2 : 1;
                    var code = OpCodesByValue[value];
                    switch (code.OperandType)
                    {
                        case OperandType.InlineMethod:
                        case OperandType.InlineField:
                        case OperandType.InlineType:
                        case OperandType.InlineTok:
                            int token = BitConverter.ToInt32(il, at);
                            AddMember(found, where, type.Module.ResolveMember(token, typeArgs, methodArgs));
                            break;
                    }
                    at += OperandSize(code, il, at);
                }
            }
        }
        var answer = Ok();
        answer["references"] = found;
        return answer;
    }
}

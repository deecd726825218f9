using System.Reflection;
using WapBridge.Core.Messaging;

namespace WapBridge.Tests.Common;

/// <summary>Features talk through interfaces their owner defines, not through each other's types.</summary>
public sealed class FeatureBoundaryTests
{
    private const BindingFlags Members = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Fact]
    public void Messaging_uses_no_Webhooks_type()
    {
        var messaging = typeof(MessageService).Assembly.GetTypes().Where(t => t.Namespace == "WapBridge.Core.Messaging");

        var offenders = messaging.SelectMany(t => UsedTypes(t).Where(u => u.Namespace == "WapBridge.Core.Webhooks").Select(u => $"{t.Name} uses {u.Name}"))
            .Distinct().ToList();

        Assert.Empty(offenders);
    }

    private static IEnumerable<Type> UsedTypes(Type type) =>
        type.GetFields(Members).Select(f => f.FieldType)
            .Concat(type.GetProperties(Members).Select(p => p.PropertyType))
            .Concat(type.GetConstructors(Members).SelectMany(c => c.GetParameters()).Select(p => p.ParameterType))
            .Concat(type.GetMethods(Members).SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType)))
            .SelectMany(Unwrap);

    private static IEnumerable<Type> Unwrap(Type t) =>
        t.HasElementType ? Unwrap(t.GetElementType()!)
        : t.IsGenericType ? t.GetGenericArguments().SelectMany(Unwrap).Prepend(t)
        : [t];
}

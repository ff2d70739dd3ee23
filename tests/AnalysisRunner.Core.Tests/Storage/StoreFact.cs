using Xunit.Abstractions;
using Xunit.Sdk;

namespace AnalysisRunner.Core.Tests.Storage;

/// <summary>
/// A [Fact] of the object-store contract. Test classes for a backend that needs a service say so
/// with [RequiresEnvironment]; without that variable their facts are reported as skipped (not passed).
/// </summary>
[XunitTestCaseDiscoverer("AnalysisRunner.Core.Tests.Storage.StoreFactDiscoverer", "AnalysisRunner.Core.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;

/// <summary>The variable a backend's test class needs, e.g. AR_TEST_GCS_ENDPOINT for the GCS emulator.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresEnvironmentAttribute(string variable) : Attribute
{
    public string Variable { get; } = variable;
}

public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        yield return new StoreTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
            discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
    }
}

public sealed class StoreTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public StoreTestCase() { }

    public StoreTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method)
        : base(sink, display, options, method) { }

    protected override string GetSkipReason(IAttributeInfo factAttribute)
    {
        var required = TestMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresEnvironmentAttribute)).FirstOrDefault();
        var variable = required?.GetConstructorArguments().FirstOrDefault() as string;
        return variable is not null && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable))
            ? $"{variable} is not set (CI sets it to the GCS emulator it starts; see .ci/run)"
            : base.GetSkipReason(factAttribute);
    }
}

using Xunit.Abstractions;
using Xunit.Sdk;

namespace AnalysisRunner.Core.Tests.TestSupport;

/// <summary>
/// A [Fact] of a contract suite or of a test that needs a real backend. When its class is marked
/// [RequiresPostgres] and PostgreSQL's binaries are missing, it is reported as skipped with the
/// reason (never as passed).
/// </summary>
[XunitTestCaseDiscoverer("AnalysisRunner.Core.Tests.TestSupport.BackendFactDiscoverer", "AnalysisRunner.Core.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class BackendFactAttribute : FactAttribute;

[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAttribute : Attribute;

/// <summary>Browser tests drive Debian's chromium (Playwright cannot download one here); without it they are skipped, saying so.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresChromiumAttribute : Attribute
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public static string? MissingReason => File.Exists(ExecutablePath) ? null : $"{ExecutablePath} is not installed (apt-get install chromium).";
}

/// <summary>Tests that connect as another OS account (runuser -u nobody) need root; without it they are skipped, saying so.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresRootAttribute : Attribute
{
    public static string? MissingReason =>
        Environment.UserName == "root" && File.Exists("/usr/sbin/runuser") ? null : "needs root and /usr/sbin/runuser to connect as another OS account.";
}

public sealed class BackendFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        yield return new BackendTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
            discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
    }
}

public sealed class BackendTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public BackendTestCase() { }

    public BackendTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method)
        : base(sink, display, options, method) { }

    protected override string GetSkipReason(IAttributeInfo factAttribute) =>
        TestMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresPostgresAttribute)).Any() && PostgresCluster.MissingReason is { } missing
            ? missing
            : TestMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresChromiumAttribute)).Any() && RequiresChromiumAttribute.MissingReason is { } noBrowser
                ? noBrowser
                : TestMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresRootAttribute)).Any() && RequiresRootAttribute.MissingReason is { } notRoot
                    ? notRoot
                    : base.GetSkipReason(factAttribute);
}

using System.Runtime.CompilerServices;
using Bunit;

namespace WapBridge.Tests.TestHost;

/// <summary>
/// bunit's waits give up after one second by default. Components here render after database work on the thread pool
/// (drafts, live updates, service calls), which under a full parallel run on two cores takes longer: a wait that would
/// have passed a moment later then fails the test. Waits still return as soon as their assertion holds.
/// </summary>
public static class BunitWaits
{
    [ModuleInitializer]
    internal static void Lengthen() => BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(10);
}

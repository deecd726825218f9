using System.Runtime.CompilerServices;
using Bunit;
using Microsoft.AspNetCore.Components;

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

    /// <summary>
    /// Finds and clicks in one turn of the renderer: a live update that re-renders between a separate Find and Click
    /// leaves the click on an event handler that no longer exists.
    /// </summary>
    public static void ClickOn<T>(this IRenderedComponent<T> cut, string selector) where T : IComponent =>
        cut.InvokeAsync(() => cut.Find(selector).Click()).GetAwaiter().GetResult();
}

namespace WapBridge.Core.Health;

/// <summary>An instance's health level changed (judged once, on one node): <paramref name="PreviousLevel"/> is null the first time.</summary>
public sealed record HealthLevelChange(int InstanceId, int CustomerId, string InstanceCode, string? PreviousLevel, InstanceHealth Health);

/// <summary>Acts on a change of level: the <c>instance.health</c> webhook, pausing campaigns at danger, the dashboard.</summary>
public interface IHealthLevelObserver
{
    Task LevelChangedAsync(HealthLevelChange change, CancellationToken ct);
}

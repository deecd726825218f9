namespace WapBridge.Core.Engines.Simulator;

/// <summary>The embedded in-process WhatsApp network, for demos, tests and benchmarks.</summary>
public sealed class SimulatorEngine(SimulatorNetwork network) : IWhatsAppEngine
{
    public const string EngineName = "simulator";

    public string Name => EngineName;
    public string? UnavailableReason => network.Options.Enabled ? null : "The simulator is disabled (WapBridge:Engines:Simulator:Enabled=false).";
    public bool SupportsPairingCode => true;

    /// <summary>The simulator does everything, so demos and integrators' tests work offline (contract §9).</summary>
    public bool Supports(string feature) => true;

    public IEngineSession CreateSession(EngineSessionContext context) => new SimulatorSession(network, context);
}

using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.Tests.Support;

/// <summary>
/// Answers like <paramref name="inner"/>, but from step <paramref name="fromStep"/> on only after yielding the thread, so
/// the decision is not ready when the engine first looks at it (as a model call's is not).
/// </summary>
internal sealed class YieldingAgent(IAgent inner, int fromStep) : IAgent
{
    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
        => view.StepIndex < fromStep ? inner.DecideAsync(view, cancellationToken) : Later(view, cancellationToken);

    private async ValueTask<AgentDecision> Later(EpisodeView view, CancellationToken cancellationToken)
    {
        await Task.Yield();
        return await inner.DecideAsync(view, cancellationToken);
    }
}

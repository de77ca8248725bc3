using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Results;

public class ErrorKindsTests
{
    [Theory]
    [InlineData(ErrorKinds.RateLimited, true)]
    [InlineData(ErrorKinds.Timeout, true)]
    [InlineData(ErrorKinds.ServerError, true)]
    [InlineData(ErrorKinds.Network, true)]
    [InlineData(ErrorKinds.BadResponse, true)]
    [InlineData(ErrorKinds.CircuitOpen, true)]
    [InlineData(ErrorKinds.Auth, false)]
    [InlineData(ErrorKinds.BadRequest, false)]
    [InlineData(ErrorKinds.NotFound, false)]
    [InlineData(ErrorKinds.ContentFilter, false)]
    [InlineData(ErrorKinds.Quota, false)]
    [InlineData(ErrorKinds.Unexpected, false)]
    [InlineData("InvalidOperationException", false)] // an agent's own exception: playing it again would fail the same way
    [InlineData(null, false)]
    public void IsRetryable_says_which_trials_retry_errors_plays_again(string? kind, bool retryable) =>
        Assert.Equal(retryable, TrialError.IsRetryable(kind));
}

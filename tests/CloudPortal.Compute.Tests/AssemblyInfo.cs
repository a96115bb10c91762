using CloudPortal.Compute.Tests.KeyPairs;
using Xunit;

// One set of ssh-keygen keys for the whole run: RSA 4096 alone takes seconds to make.
[assembly: AssemblyFixture(typeof(SshTools))]

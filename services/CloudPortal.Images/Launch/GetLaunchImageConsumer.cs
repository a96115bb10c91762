using CloudPortal.Contracts.Compute;
using CloudPortal.Contracts.Images;
using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Sharing;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Images.Launch;

/// <summary>
/// Compute's question before a launch: may this project boot this image, and where does the node fetch it? The
/// project sees images exactly as its members do through the API (<see cref="ImageAccess"/>); the answer carries
/// what placement and the root disk need, and a signed URL of the compute copy that expires, so the node needs no
/// credential of its own. Read-only: nothing changes in Images, so a redelivered request is harmless.
/// </summary>
public sealed class GetLaunchImageConsumer(ImagesDbContext db, DownloadSigner signer, TimeProvider time) : IConsumer<GetLaunchImage>
{
    public async Task Consume(ConsumeContext<GetLaunchImage> context)
    {
        var request = context.Message;
        // A non-positive validity is a bug of the requester: it faults, the requester sees the fault, the message lands in _error.
        var validity = DownloadSigner.ValidityFor(request.DownloadValidFor);
        var image = await ImageAccess.VisibleToProject(db, request.ProjectId).AsNoTracking()
            .SingleOrDefaultAsync(i => i.Id == request.ImageId, context.CancellationToken);
        if (await RefusalAsync(image, request, context.CancellationToken) is { } refusal)
        {
            await context.RespondAsync(refusal);
            return;
        }

        var expiresAt = DownloadSigner.ExpiryFor(time.GetUtcNow(), validity);
        var source = new ImageSource(image!.Id, signer.Issue(image.Id, image.ComputeSha256!, expiresAt), image.ComputeSha256!, image.ComputeSizeBytes, image.ComputeFormat!);
        await context.RespondAsync(new LaunchImage(image.Id, image.Name, image.MinRamMb, image.MinDiskGb, image.VirtualSizeBytes,
            image.Properties, source, expiresAt));
    }

    private async Task<ImageNotLaunchable?> RefusalAsync(Image? image, GetLaunchImage request, CancellationToken cancellationToken)
    {
        // The same sentence for an unknown id, a deleted image and another project's private one.
        if (image is null)
            return new(request.ImageId, ImageLaunchCodes.NotFound, $"There is no image {request.ImageId} that project {request.ProjectId} can use.");
        if (image.OwnerProjectId != request.ProjectId && image.Visibility == ImageVisibility.Shared
            && !await db.ImageMembers.AnyAsync(m => m.ImageId == image.Id && m.ProjectId == request.ProjectId && m.Status == MemberStatus.Accepted, cancellationToken))
            return new(image.Id, ImageLaunchCodes.MembershipNotAccepted, $"Image {image.Id} is shared with project {request.ProjectId}, which has not accepted it; accept the membership first.");
        return image.Status switch
        {
            ImageStatus.Deactivated => new(image.Id, ImageLaunchCodes.Deactivated, $"Image {image.Id} is deactivated; it cannot back new instances until it is reactivated."),
            ImageStatus.Active when image.ComputeSha256 is null || image.ComputeFormat is null =>
                new(image.Id, ImageLaunchCodes.NotActive, $"Image {image.Id} has no copy for the compute nodes yet."),
            ImageStatus.Active when image.ComputeFormat is not (DiskFormats.Raw or DiskFormats.Qcow2) =>
                new(image.Id, ImageLaunchCodes.FormatNotBootable, $"Image {image.Id} is {image.ComputeFormat} data; instances boot from raw or qcow2 disks only."),
            ImageStatus.Active => null,
            ImageStatus.Saving when image.ConversionState is "pending" or "running" =>
                new(image.Id, ImageLaunchCodes.NotActive, $"Image {image.Id} is converting to qcow2; it can be launched once it is active."),
            ImageStatus.Killed => new(image.Id, ImageLaunchCodes.NotActive, $"Image {image.Id} is killed (its data was refused, or its import or conversion failed); it cannot be launched."),
            _ => new(image.Id, ImageLaunchCodes.NotActive, $"Image {image.Id} is {ImageView.Lower(image.Status)}; it has no data to launch yet."),
        };
    }
}

public sealed class GetLaunchImageConsumerDefinition : ConsumerDefinition<GetLaunchImageConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<GetLaunchImageConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // A database hiccup is worth a quick retry inside the requester's timeout; a bad request is not.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<ArgumentOutOfRangeException>();
            retry.Intervals(100, 500, 1000);
        });
    }
}

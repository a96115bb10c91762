using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudPortal.Identity.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class OutboxFailedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbox_messages_SentAt",
                table: "outbox_messages");

            migrationBuilder.AddColumn<DateTime>(
                name: "FailedAt",
                table: "outbox_messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_SentAt_FailedAt",
                table: "outbox_messages",
                columns: new[] { "SentAt", "FailedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbox_messages_SentAt_FailedAt",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "FailedAt",
                table: "outbox_messages");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_SentAt",
                table: "outbox_messages",
                column: "SentAt");
        }
    }
}

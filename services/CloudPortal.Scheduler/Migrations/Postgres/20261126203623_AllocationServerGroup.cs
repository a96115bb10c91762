using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudPortal.Scheduler.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AllocationServerGroup : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "ServerGroupId",
                table: "allocations",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_allocations_ServerGroupId",
                table: "allocations",
                column: "ServerGroupId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_allocations_ServerGroupId",
                table: "allocations");

            migrationBuilder.DropColumn(
                name: "ServerGroupId",
                table: "allocations");
        }
    }
}

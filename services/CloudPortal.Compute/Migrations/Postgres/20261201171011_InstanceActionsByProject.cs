using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudPortal.Compute.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class InstanceActionsByProject : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}

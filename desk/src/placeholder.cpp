// Keeps the desk library non-empty until its use cases land.
namespace tfadesk::desk {
int desk_layer_version() { return 1; }
}  // namespace tfadesk::desk

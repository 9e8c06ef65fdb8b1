#include "main/app.h"

int main(int argc, char** argv) {
    portico::App app;
    return app.run(argc, argv);
}
